/* slim-listen-many: holds N listening TCP sockets, on ports BASE..BASE+N-1,
 * until it gets SIGTERM or SIGINT. Run under slim-run in a container, each
 * listen registers one more listener with the host's router (one more entry
 * in the reserved port's SOCKHASH): the benchmark suite measures connection
 * setup and router memory with many listeners present.
 *
 *   slim-listen-many [--bind IP] --base PORT --count N
 *
 * It raises its soft RLIMIT_NOFILE to the hard limit first (N sockets need
 * N fds). Prints "listening N ports BASE-LAST in MS ms" once all listen, and
 * exits 0 on SIGTERM/SIGINT. Exit 1 (one line on stderr naming the port and
 * the reason) if any socket cannot listen. */
#include "netutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define PROG "slim-listen-many"

static void usage(FILE *f)
{
	fputs(
	    "usage: " PROG " [--bind IP] --base PORT --count N\n"
	    "Holds N listening TCP sockets on ports BASE..BASE+N-1 until SIGTERM or SIGINT.\n"
	    "  --bind IP       listen on IP only (default 0.0.0.0)\n"
	    "  --base PORT     the first port, 1..65535\n"
	    "  --count N       how many, 0..65535 (raises the soft RLIMIT_NOFILE to the hard one)\n"
	    "Prints \"listening N ports BASE-LAST in MS ms\" once all listen; exit 0 on\n"
	    "SIGTERM/SIGINT, 1 if a socket cannot listen (one line naming the port).\n",
	    f);
}

static void on_signal(int sig)
{
	(void)sig;
	_exit(0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bind", required_argument, NULL, 'b'},
	    {"base", required_argument, NULL, 'p'},
	    {"count", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct rlimit rl;
	long base = -1, count = -1;
	uint64_t t0;
	int c;

	nu_prog = PROG;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'b':
			if (nu_parse_ipv4(optarg, &sin.sin_addr) < 0) {
				fprintf(stderr, PROG ": bad --bind address '%s'\n", optarg);
				return 1;
			}
			break;
		case 'p':
			if (nu_parse_long("--base", optarg, 1, 65535, &base) < 0)
				return 1;
			break;
		case 'n':
			if (nu_parse_long("--count", optarg, 0, 65535, &count) < 0)
				return 1;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc || base < 0 || count < 0) {
		usage(stderr);
		return 1;
	}
	if (base + count - 1 > 65535) {
		fprintf(stderr, PROG ": ports %ld..%ld go past 65535\n", base, base + count - 1);
		return 1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)count + 64 > rl.rlim_cur) {
		fprintf(stderr,
			PROG ": %ld sockets need more fds than RLIMIT_NOFILE allows (%llu)\n",
			count, (unsigned long long)rl.rlim_cur);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	t0 = nu_now_ns();
	for (long i = 0; i < count; i++) {
		sin.sin_port = htons((unsigned short)(base + i));
		/* nu_listen_tcp names the failing step and port. */
		if (nu_listen_tcp(&sin, 16) < 0) {
			fprintf(stderr, PROG ": gave up after %ld of %ld listeners\n", i, count);
			return 1;
		}
	}
	printf("listening %ld ports %ld-%ld in %llu ms\n", count, base, base + count - 1,
	       (unsigned long long)((nu_now_ns() - t0) / 1000000));
	for (;;)
		pause();
}
