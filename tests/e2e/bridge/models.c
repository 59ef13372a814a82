/* The device models the bridge can serve, by name: "probe" (the harness self-test device),
 * and, when the virtual Pi is built (PIPROV_E2E_HAVE_VPI), every model a --virtual spec
 * names ("pi4", "pi5", "cm4", ...). */
#include <stdio.h>
#include <string.h>

#include "device_model.h"

#include "banned.h"

struct e2e_device_model *e2e_probe_model_create(unsigned index);
#ifdef PIPROV_E2E_HAVE_VPI
struct e2e_device_model *e2e_vpi_model_create(const char *name, unsigned index,
					       const char *options);
#endif

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
#ifdef PIPROV_E2E_HAVE_VPI
	return e2e_vpi_model_create(name, index, options);
#else
	fprintf(stderr, "piprov-redir-bridge: unknown model '%s' (known: %s)\n", name,
		e2e_device_model_names());
	return NULL;
#endif
}

const char *e2e_device_model_names(void)
{
#ifdef PIPROV_E2E_HAVE_VPI
	return "probe, and the virtual Pi models of --virtual (pi4, pi5, cm4, ...)";
#else
	return "probe (built without the virtual Pi)";
#endif
}
