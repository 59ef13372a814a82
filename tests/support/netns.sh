# Sourced by the tests that make network namespaces (tests/netboot/lan.sh,
# tests/unit/inventory/servers/*.sh). Each names its namespaces after its own PID and removes
# them on exit; a test killed outright (SIGKILL: a CTest timeout, a killed CI job) cannot, and
# its namespaces would stay on the machine for good. Every such test first removes the
# namespaces of the ones whose process is gone.

# remove_stale_netns: our namespaces (piprov-dhcp-srv-PID, piprov-dhcp-cli-PID,
# piprov-tftpd-PID, pvnbPID-NAME) whose test PID no longer runs. A PID reused since only
# keeps a stale namespace one run longer; a running test's are never touched.
remove_stale_netns() {
	ip netns list 2>/dev/null | while read -r stale_ns _; do
		stale_pid=$(printf '%s\n' "$stale_ns" | sed -n \
			-e 's/^piprov-\(dhcp-srv\|dhcp-cli\|tftpd\)-\([0-9][0-9]*\)$/\2/p' \
			-e 's/^pvnb\([0-9][0-9]*\)-[a-z0-9]*$/\1/p')
		[ -n "$stale_pid" ] || continue
		! kill -0 "$stale_pid" 2>/dev/null || continue
		ip netns del "$stale_ns" 2>/dev/null || true
	done
}
