/* piprov-node: the on-Pi helper's command line. The only layer that prints or exits; the
 * work is done by the node library (include/piprov/node.h). */
#ifndef PIPROV_NODE_CLI_H
#define PIPROV_NODE_CLI_H

#include <stdbool.h>

#include <jansson.h>

#include "piprov/error.h"
#include "piprov/log.h"
#include "piprov/node.h"
#include "cli_messages.h"

enum node_exit {
	NODE_EXIT_OK = 0,
	NODE_EXIT_FAILURE = 1,
	NODE_EXIT_USAGE = 2,
};

/* The global options (cli_globals_parse(), shared with piprov: before or after the
 * command name) merged with the environment, and the board's root opened from them. */
struct node_context {
	const char *root_path;  /* --root DIR, else $PIPROV_ROOT, else "/" */
	struct pv_node_root root;
	int verbosity;
	bool quiet;
	bool json;              /* --json */
	/* --inventory FILE, else $PIPROV_INVENTORY, else NULL; from_option: typed. */
	const char *inventory;
	bool inventory_from_option;
};

/* A command; fn gets argv[0] = "piprov-node NAME" (getopt's messages name it) and returns
 * node_usage_hint() on getopt's '?'. */
struct node_command {
	const char *name;
	int (*fn)(int argc, char **argv, struct node_context *ctx);
	const char *summary;
	unsigned flags; /* NODE_JSON: takes --json (else --json is a usage error) */
};

#define NODE_JSON 1u
#define node_usage_hint cli_usage_hint

int node_fail(int status);
int node_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "piprov-node CMD: <formatted>" + "Try 'piprov-node CMD --help'."; returns 2. */
int node_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void node_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void node_info(const struct node_context *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Read the board: opens the mailbox when the root has one (a real Pi). The caller
 * releases id. Prints the failure and returns non-zero on error. */
int node_read_identity(struct node_context *ctx, struct pv_node_identity *id);
/* The status JSON object (shared by status and report). */
json_t *node_identity_json(const struct pv_node_identity *id);
/* Print a JSON value to stdout, indented, with a final newline. */
int node_print_json(json_t *value);

struct pv_inventory_record;
/* report: the inventory record of this board (printed on failure). */
int node_build_record(const struct pv_node_identity *id, struct pv_inventory_record *rec);
/* --inventory, else configured (provision's setting, may be NULL), else $PIPROV_INVENTORY,
 * else piprov-inventory.cfg on the boot partition. malloc'd. */
char *node_inventory_path(struct node_context *ctx, const char *configured);
/* Upsert this board into path and print what happened. */
int node_report(struct node_context *ctx, const struct pv_node_identity *id, const char *path,
		bool json);

int cmd_status(int argc, char **argv, struct node_context *ctx);
int cmd_netboot(int argc, char **argv, struct node_context *ctx);
int cmd_report(int argc, char **argv, struct node_context *ctx);
int cmd_provision(int argc, char **argv, struct node_context *ctx);

#endif
