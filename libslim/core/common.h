/* Small things every libslim file needs. */
#ifndef LIBSLIM_COMMON_H
#define LIBSLIM_COMMON_H

#include <stdint.h>

/* The library is built with hidden visibility; only the hooks are exported
 * (and libslim.map keeps everything else local as well). */
#define SLIM_EXPORT __attribute__((visibility("default")))

/* In an AddressSanitizer build, code that may run before the ASan runtime
 * is set up (a hook called from another library's constructor) must not be
 * instrumented: its shadow memory is not mapped yet. */
#if defined(__SANITIZE_ADDRESS__)
#define SLIM_NO_ASAN __attribute__((no_sanitize_address))
#else
#define SLIM_NO_ASAN
#endif

/* An IPv4 endpoint in HOST byte order. */
struct slim_ep {
	uint32_t ip;
	uint16_t port;
};

#endif
