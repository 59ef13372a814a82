/* Placeholder until the command group lands (the issue that owns it replaces this file). */
#include "cli.h"
#include "banned.h"

int cmd_uart(int argc, char **argv, struct cli_context *ctx)
{
	(void)argc;
	(void)ctx;
	return cli_error("'%s' is not available in this build yet", argv[0]);
}
