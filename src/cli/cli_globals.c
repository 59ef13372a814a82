/* One parser for the global options of both programs (see cli_globals.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_globals.h"
#include "piprov/inventory.h"
#include "piprov/log.h"
#include "banned.h"

/* "<program>: option '<option>' <problem>" and the one-line hint. */
static int usage_error(const char *program, const char *option, const char *problem)
{
	fprintf(stderr, "%s: option '%s' %s\nTry '%s --help'.\n", program, option, problem,
		program);
	return -1;
}

/* "-v", "-vv", "-vvv"...: the number of v's, 0 when arg is not such a word. */
static int verbose_count(const char *arg)
{
	int n = 0;

	if (strcmp(arg, "--verbose") == 0)
		return 1;
	if (arg[0] != '-' || arg[1] != 'v')
		return 0;
	for (arg++; *arg == 'v'; arg++)
		n++;
	return *arg ? 0 : n;
}

/* --NAME VALUE or --NAME=VALUE. Returns 1 when arg is that option (*value set, *i moved
 * past a separate value), 0 when it is not, -1 on a usage error (printed). */
static int value_option(const char *program, const char *name, int argc, char **argv, int *i,
			const char **value)
{
	const char *arg = argv[*i];
	size_t len = strlen(name);

	if (strncmp(arg, name, len) != 0 || (arg[len] != '\0' && arg[len] != '='))
		return 0;
	if (arg[len] == '=') {
		*value = arg + len + 1;
	} else if (*i + 1 < argc) {
		*value = argv[++*i];
	} else {
		return usage_error(program, name, "requires an argument");
	}
	if (!**value)
		return usage_error(program, name, "needs a non-empty value");
	return 1;
}

static const char *env_value(const char *name)
{
	const char *value = getenv(name);

	return value && *value ? value : NULL;
}

int cli_globals_parse(const char *program, int argc, char **argv, struct cli_globals *g)
{
	int out = 1, i, n, rc;
	bool after_dashes = false;

	memset(g, 0, sizeof(*g));
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (after_dashes) {
			argv[out++] = argv[i];
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			/* Everything after belongs to the command, which sees the "--" too. */
			after_dashes = true;
			argv[out++] = argv[i];
			continue;
		}
		if ((n = verbose_count(arg)) > 0) {
			g->verbosity += n;
		} else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
			g->quiet = true;
		} else if (strcmp(arg, "--json") == 0) {
			g->json = true;
		} else if (strcmp(arg, "--version") == 0) {
			g->version = true;
		} else if (!g->command && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
			g->help = true;
		} else if ((rc = value_option(program, "--inventory", argc, argv, &i,
					      &g->inventory))) {
			if (rc < 0)
				return -1;
			g->inventory_from_option = true;
		} else if ((rc = value_option(program, "--root", argc, argv, &i, &g->root))) {
			if (rc < 0)
				return -1;
			g->root_from_option = true;
		} else if (!g->command && arg[0] == '-' && arg[1]) {
			fprintf(stderr, "%s: unrecognized option '%s'\nTry '%s --help'.\n", program,
				arg, program);
			return -1;
		} else {
			if (!g->command)
				g->command = arg;
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	if (g->verbosity > 2)
		g->verbosity = 2;
	if (!g->inventory)
		g->inventory = env_value(PV_INVENTORY_ENV);
	if (!g->root)
		g->root = env_value(CLI_ROOT_ENV);
	return out;
}

int cli_globals_log_level(const struct cli_globals *g)
{
	return g->quiet ? PV_LOG_ERROR
	       : g->verbosity >= 2 ? PV_LOG_DEBUG
	       : g->verbosity == 1 ? PV_LOG_INFO
				   : PV_LOG_WARN;
}
