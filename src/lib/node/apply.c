/* rpi-eeprom-config --apply/--edit on a running Pi (or a root): the config a user edits
 * (a staged update's, else the running one, as upstream's edit_config()), the editor run,
 * and reading the board with the firmware mailbox when there is one. The update itself is
 * pv_node_netboot_prepare with a whole replacement config, then backup + staging. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/eeprom.h"
#include "piprov/node.h"
#include "piprov/text.h"
#include "banned.h"

extern char **environ;

#define PENDING_IMAGE_MAX (4u << 20)

int pv_node_identity_read_board(const struct pv_node_root *root, struct pv_node_identity *id)
{
	struct pv_node_mailbox mb = { NULL, NULL };
	bool have_mb;
	int rc;

	/* The mailbox only exists on a real Pi; a sysroot has no /dev/vcio. */
	have_mb = pv_node_mailbox_open_vcio(root, &mb) == 0;
	if (!have_mb)
		pv_clear_error();
	rc = pv_node_identity_read(root, have_mb ? &mb : NULL, id);
	if (have_mb)
		pv_node_mailbox_close(&mb);
	return rc;
}

int pv_node_edit_source(const struct pv_node_root *root, const struct pv_node_identity *id,
			struct pv_buf *out, char *source, size_t size)
{
	struct pv_node_update_defaults d;
	struct pv_eeprom_image img = { 0 };
	struct pv_buf raw = PV_BUF_INIT(SIZE_MAX);
	const unsigned char *text;
	char bootfs[256], pending[300];
	size_t len;
	int rc;

	if ((rc = pv_node_update_defaults_read(root, &d)))
		return rc;
	/* A staged update is edited further (incremental edits, as upstream). */
	if (pv_node_find_bootfs(root, &d, bootfs, sizeof(bootfs)) == 0) {
		snprintf(pending, sizeof(pending), "%s/pieeprom.upd", bootfs);
		if (pv_node_root_exists(root, pending)) {
			rc = pv_node_root_read(root, pending, PENDING_IMAGE_MAX, &raw);
			if (rc == 0)
				rc = pv_eeprom_parse(&img, raw.data, raw.len, pending);
			if (rc == 0)
				rc = pv_eeprom_get_file(&img, PV_EEPROM_BOOTCONF_TXT, &text, &len);
			if (rc == 0 && (rc = pv_buf_append(out, text, len)))
				rc = pv_fail(rc, "node", "'/%s': %s", pending, pv_strerror(rc));
			if (rc == 0)
				snprintf(source, size, "/%s", pending);
			pv_eeprom_release(&img);
			pv_buf_release(&raw);
			return rc;
		}
	}
	pv_clear_error();
	if (id->eeprom_config_source == PV_NODE_SRC_NONE)
		return pv_fail(PV_ERR_NOT_FOUND, "node", "cannot read the running bootloader config "
			       "(no blconfig nvmem device and no firmware mailbox)");
	if ((rc = pv_buf_append(out, id->eeprom_config.data, id->eeprom_config.len)))
		return pv_fail(rc, "node", "running config: %s", pv_strerror(rc));
	/* The names upstream prints as config_src. */
	pv_strlcpy(source, id->eeprom_config_source == PV_NODE_SRC_MAILBOX
				   ? "vcgencmd bootloader_config" : "blconfig device", size);
	return PV_OK;
}

int pv_node_run_editor(const char *path)
{
	const char *editor = getenv("EDITOR");
	char *argv[3];
	int status, err;
	pid_t pid;

	/* Upstream: $EDITOR, else nano; VISUAL is not looked at. The editor gets the
	 * terminal (stdin/stdout/stderr inherited). */
	if (!editor || !*editor)
		editor = "nano";
	argv[0] = (char *)editor;
	argv[1] = (char *)path;
	argv[2] = NULL;
	/* posix_spawn rather than fork: also works under qemu-user, where a forked child of
	 * the emulator can hang before its exec. */
	err = posix_spawnp(&pid, editor, NULL, NULL, argv, environ);
	if (err == ENOENT)
		return pv_fail(PV_ERR_NOT_FOUND, "node", "cannot run editor '%s' (set EDITOR)",
			       editor);
	if (err)
		return pv_fail_errno(err, "node", "cannot start editor '%s'", editor);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return pv_fail_errno(errno, "node", "waiting for editor '%s'", editor);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return pv_fail(PV_ERR_NOT_FOUND, "node", "cannot run editor '%s' (set EDITOR)",
			       editor);
	if (!WIFEXITED(status))
		return pv_fail(PV_ERR_INTERRUPTED, "node", "aborting update: editor '%s' was "
			       "killed by signal %d", editor, WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return pv_fail(PV_ERR_INTERRUPTED, "node", "aborting update because '%s' '%s' "
			       "exited with code %d", editor, path, WEXITSTATUS(status));
	return PV_OK;
}
