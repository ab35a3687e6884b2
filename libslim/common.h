/* Small things every libslim file needs. */
#ifndef LIBSLIM_COMMON_H
#define LIBSLIM_COMMON_H

#include <stdint.h>

/* The library is built with hidden visibility; only the hooks are exported
 * (and libslim.map keeps everything else local as well). */
#define SLIM_EXPORT __attribute__((visibility("default")))

/* An IPv4 endpoint in HOST byte order. */
struct slim_ep {
	uint32_t ip;
	uint16_t port;
};

#endif
