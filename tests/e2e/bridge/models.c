/* The device models the bridge can serve, by name. */
#include <stdio.h>
#include <string.h>

#include "device_model.h"

#include "banned.h"

struct e2e_device_model *e2e_probe_model_create(unsigned index);

struct e2e_device_model *e2e_device_model_create(const char *name, unsigned index,
						  const char *options)
{
	if (strcmp(name, "probe") == 0) {
		if (options && *options) {
			fprintf(stderr, "piprov-redir-bridge: model 'probe' takes no options ('%s')\n",
				options);
			return NULL;
		}
		return e2e_probe_model_create(index);
	}
	fprintf(stderr, "piprov-redir-bridge: unknown model '%s' (known: %s)\n", name,
		e2e_device_model_names());
	return NULL;
}

const char *e2e_device_model_names(void)
{
	return "probe";
}
