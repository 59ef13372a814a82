#include "node_cli.h"
#include "banned.h"

int cmd_provision(int argc, char **argv, struct node_context *ctx)
{
	(void)argc;
	(void)ctx;
	return node_error("'%s' is not available in this build yet", argv[0]);
}
