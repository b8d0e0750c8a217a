#include <dlfcn.h>
#include <stdio.h>
#include "http/mhd.h"

/* The soname Debian 12's libmicrohttpd12 ships, and the one the headers rtmon builds with are for.
 */
#define MHD_SONAME "libmicrohttpd.so.12"

const struct mhd_api *mhd_load(char *err, size_t errlen)
{
	static struct mhd_api api;
	static void *lib;
	const char *missing = NULL;

	if (lib)
		return &api;
	lib = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(err, errlen, "rtmon serve needs %s: install Debian's libmicrohttpd12 (%s)",
			 MHD_SONAME, dlerror());
		return NULL;
	}
#define LOAD(field, sym)                                                                           \
	if (!missing && !(*(void **)&api.field = dlsym(lib, #sym)))                                \
		missing = #sym;
	LOAD(start_daemon, MHD_start_daemon)
	LOAD(stop_daemon, MHD_stop_daemon)
	LOAD(lookup_connection_value, MHD_lookup_connection_value)
	LOAD(create_response_from_buffer, MHD_create_response_from_buffer)
	LOAD(add_response_header, MHD_add_response_header)
	LOAD(queue_response, MHD_queue_response)
	LOAD(destroy_response, MHD_destroy_response)
#undef LOAD
	if (missing) {
		snprintf(err, errlen, "%s has no %s: install Debian's libmicrohttpd12", MHD_SONAME,
			 missing);
		dlclose(lib);
		lib = NULL;
		return NULL;
	}
	return &api;
}
