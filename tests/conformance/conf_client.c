/* slim-conf-client: the client half of the differential conformance suite.
 *
 *   slim-conf-client --list
 *   slim-conf-client --far IP [--near IP] CASE...
 *   slim-conf-client --exec-child WHAT ARGS...   (used by the exec cases)
 *
 * Runs the named cases in order, each printing "== CASE" and then one line
 * per observable. The runner starts one process per case, so a case that
 * hangs or crashes cannot hide the others; every case is also bounded by
 * an alarm (CASE_TIMEOUT_S) that prints "TIMEOUT" and exits 124. */
#define _GNU_SOURCE
#include "conf.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CASE_TIMEOUT_S 20

static const struct conf_case *const areas[] = {
    conf_cases_connect, conf_cases_poll,    conf_cases_listen, conf_cases_sockopt,
    conf_cases_dup,	conf_cases_process, conf_cases_errors, conf_cases_inet6,
    conf_cases_threads, conf_cases_fortify,
};

static void on_alarm(int sig)
{
	static const char msg[] = "TIMEOUT\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* exiting anyway */
	}
	_exit(124);
}

static const struct conf_case *find_case(const char *name)
{
	for (size_t a = 0; a < sizeof(areas) / sizeof(areas[0]); a++)
		for (const struct conf_case *c = areas[a]; c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: slim-conf-client --list\n"
			"       slim-conf-client --far IP [--near IP] CASE...\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "--exec-child") == 0)
		return conf_exec_child(argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t a = 0; a < sizeof(areas) / sizeof(areas[0]); a++)
			for (const struct conf_case *c = areas[a]; c->name; c++)
				printf("%s\t%s\n", c->name, c->what);
		return 0;
	}
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		struct in_addr *dst = strcmp(argv[i], "--far") == 0    ? &conf.far
				      : strcmp(argv[i], "--near") == 0 ? &conf.near
								       : NULL;

		if (!dst || inet_pton(AF_INET, argv[i + 1], dst) != 1) {
			usage();
			return 2;
		}
	}
	if (conf.far.s_addr == 0 || i >= argc) {
		usage();
		return 2;
	}
	conf.self_exe = realpath("/proc/self/exe", NULL);
	/* Servers do this too; writes to a reset connection must come back
	 * as EPIPE, not kill the case. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	for (; i < argc; i++) {
		const struct conf_case *c = find_case(argv[i]);

		if (!c) {
			fprintf(stderr, "slim-conf-client: no case '%s' (see --list)\n", argv[i]);
			return 2;
		}
		say("== %s", c->name);
		alarm(CASE_TIMEOUT_S);
		c->run();
		alarm(0);
	}
	return 0;
}
