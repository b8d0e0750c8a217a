/* libmicrohttpd, loaded when rtmon serve starts rather than linked: the library pulls in GnuTLS and
 * its eight dependencies, which cost every other command about 3 MiB of RSS at start-up for a
 * server they never run (docs/PERFORMANCE.md, peak RSS). The calls rtmon makes, by pointer. */
#ifndef RTMON_MHD_H
#define RTMON_MHD_H

#include <stddef.h>
#include <microhttpd.h>

struct mhd_api {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
};

/* Loads the library once; NULL with a one-line message naming it and its Debian package. */
const struct mhd_api *mhd_load(char *err, size_t errlen);

#endif
