/* `netboot check` (include/piprov/netboot_check.h): the bootloader model of boot.c run in
 * its probe mode, one board per worker, on this host's interface with each board's MAC. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "piprov/inventory.h"
#include "piprov/netboot_check.h"
#include "piprov/text.h"
#include "banned.h"

#define DEFAULT_DHCP_WAIT_MS 4000u
#define DEFAULT_TFTP_TIMEOUT_MS 5000u
#define DEFAULT_PARALLEL 16u
#define MAX_PARALLEL 256u

/* The first board of the table on this SoC: what a board whose revision is unknown is
 * taken for (its DHCP options and files are the SoC's). */
static const struct pv_board_type *first_board_of(const struct pv_soc_info *soc)
{
	const struct pv_board_type *b;

	for (size_t i = 0; (b = pv_board_at(i)) != NULL; i++)
		if (b->soc == soc->soc)
			return b;
	return NULL;
}

/* The SoC a MAC's OUI belongs to, among those that boot from the network: b8:27:eb is
 * also the OUI of the BCM2835/2836 boards, which have no network boot. */
static const struct pv_soc_info *netboot_soc_by_mac(const uint8_t mac[6])
{
	uint32_t oui = (uint32_t)mac[0] << 16 | (uint32_t)mac[1] << 8 | mac[2];
	const struct pv_soc_info *soc;

	for (size_t i = 0; (soc = pv_soc_at(i)) != NULL; i++) {
		if (!pv_netboot_profile_for(soc->soc))
			continue;
		for (size_t k = 0; k < PV_ARRAY_SIZE(soc->mac_ouis) && soc->mac_ouis[k]; k++)
			if (soc->mac_ouis[k] == oui)
				return soc;
	}
	return NULL;
}

int pv_netboot_check_board_from_record(const struct pv_inventory_record *rec,
				       struct pv_netboot_check_board *out)
{
	struct pv_netboot_check_board b;
	struct pv_revision rev;
	const struct pv_soc_info *soc = NULL;
	const struct pv_board_type *board = NULL;

	memset(&b, 0, sizeof(b));
	pv_inventory_serial_text(rec, b.serial);
	pv_strlcpy(b.name, rec->hostname[0] ? rec->hostname : b.serial, sizeof(b.name));
	if (!rec->has_mac)
		return pv_fail(PV_ERR_INVALID, "netboot",
			       "board '%s': no MAC in the inventory (a DHCP server knows a board "
			       "by its MAC)", b.name);
	if (rec->has_revision && pv_revision_decode(rec->revision, &rev) == PV_OK && rev.board &&
	    rev.soc) {
		board = rev.board;
		soc = rev.soc;
	} else {
		pv_clear_error();
		soc = netboot_soc_by_mac(rec->mac);
		board = soc ? first_board_of(soc) : NULL;
	}
	if (!soc || !board)
		return pv_fail(PV_ERR_INVALID, "netboot",
			       "board '%s': model unknown (no revision code, and the MAC's OUI is "
			       "not one of a Raspberry Pi); set revision= in the inventory", b.name);
	b.id.board = board;
	b.id.soc = soc;
	b.id.serial = rec->serial;
	memcpy(b.id.mac, rec->mac, 6);
	b.id.boardrev = rec->has_revision ? rec->revision : 0;
	pv_netboot_settings_defaults(soc, &b.settings);
	if (rec->has_tftp_prefix) {
		/* the inventory's names are the EEPROM's TFTP_PREFIX values */
		b.settings.tftp_prefix = (enum pv_netboot_prefix)rec->tftp_prefix;
		pv_strlcpy(b.settings.tftp_prefix_str, rec->tftp_prefix_str,
			   sizeof(b.settings.tftp_prefix_str));
	}
	/* A board is checked because it is meant to boot from the network: when the inventory
	 * does not know its BOOT_ORDER (usb flash records none today), the network is taken
	 * to be its mode, then RESTART. */
	b.settings.boot_order = rec->has_boot_order ? rec->boot_order : 0xf2u;
	b.expected_ip = rec->has_ip ? rec->ip : 0;
	*out = b;
	return PV_OK;
}

struct check_run {
	const struct pv_netboot_check_options *o;
	const struct pv_netboot_check_board *boards;
	struct pv_netboot_result *results;
	size_t n, next;
	int status;                         /* the first failure to use the interface */
	char error[256];
	pthread_mutex_t lock;
};

static int check_one(struct check_run *run, const struct pv_netboot_check_board *board,
		     struct pv_netboot_result *result)
{
	const struct pv_netboot_check_options *o = run->o;
	struct pv_netboot_settings s = board->settings;
	struct pv_netboot_run_options ro;
	struct pv_netboot_link *link = NULL;
	unsigned wait = o->dhcp_wait_ms ? o->dhcp_wait_ms : DEFAULT_DHCP_WAIT_MS;
	int rc;

	/* The check waits its own time, not the board's (DHCP_TIMEOUT is 45 s), and asks once:
	 * a server that does not answer a board in a few seconds is the finding. */
	s.dhcp_timeout_ms = wait;
	if (s.dhcp_req_timeout_ms > wait)
		s.dhcp_req_timeout_ms = wait;
	s.tftp_file_timeout_ms = o->tftp_timeout_ms ? o->tftp_timeout_ms : DEFAULT_TFTP_TIMEOUT_MS;
	s.net_boot_max_retries = 0;
	s.has_static_ip = false;
	/* Replies go to the board's MAC, which is not this interface's: promiscuous. */
	rc = pv_netboot_link_packet_open(o->netns, o->ifname, board->id.mac, true, &link);
	if (rc)
		return rc;
	memset(&ro, 0, sizeof(ro));
	ro.link = link;
	ro.cancel = o->cancel;
	ro.check_nfs = o->check_nfs;
	ro.probe = true;
	ro.host_netns = o->netns;
	ro.host_ifname = o->ifname;
	rc = pv_netboot_run(&board->id, &s, &ro, result);
	link->ops->destroy(link);
	return rc;
}

static void *check_worker(void *arg)
{
	struct check_run *run = arg;

	for (;;) {
		size_t i;
		int rc;

		pthread_mutex_lock(&run->lock);
		if (run->next >= run->n || run->status || (run->o->cancel && *run->o->cancel)) {
			pthread_mutex_unlock(&run->lock);
			return NULL;
		}
		i = run->next++;
		pthread_mutex_unlock(&run->lock);
		rc = check_one(run, &run->boards[i], &run->results[i]);
		if (rc) {
			pthread_mutex_lock(&run->lock);
			if (!run->status) {
				run->status = rc;
				pv_strlcpy(run->error, pv_last_error(), sizeof(run->error));
			}
			pthread_mutex_unlock(&run->lock);
		}
	}
}

int pv_netboot_check_run(const struct pv_netboot_check_options *options,
			 const struct pv_netboot_check_board *boards, size_t n,
			 struct pv_netboot_result *results)
{
	struct check_run run;
	pthread_t threads[MAX_PARALLEL];
	size_t workers = options->parallel ? options->parallel : DEFAULT_PARALLEL, started = 0;

	if (!options->ifname || !options->ifname[0])
		return pv_fail(PV_ERR_INVALID, "netboot", "no interface to check from");
	if (workers > MAX_PARALLEL)
		workers = MAX_PARALLEL;
	if (workers > n)
		workers = n;
	memset(&run, 0, sizeof(run));
	run.o = options;
	run.boards = boards;
	run.results = results;
	run.n = n;
	pthread_mutex_init(&run.lock, NULL);
	for (size_t i = 0; i < n; i++)
		memset(&results[i], 0, sizeof(results[i]));
	for (size_t i = 0; i < workers; i++) {
		if (pthread_create(&threads[started], NULL, check_worker, &run) != 0)
			break;
		started++;
	}
	if (!started && n) {
		/* no thread at all: ask in this one */
		check_worker(&run);
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&run.lock);
	if (run.status)
		return pv_fail(run.status, "netboot", "%s", run.error);
	return PV_OK;
}
