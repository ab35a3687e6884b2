/* slim-run: start a program with libslim preloaded and SLIM_SOCKET set.
 *
 *   slim-run [--socket PATH] [--] CMD [ARGS...]
 *   slim-run --print-lib
 *
 * Exit status: CMD's own (it replaces slim-run); 125 if slim-run itself
 * fails; 126 if CMD cannot be executed; 127 if CMD is not found. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "self_path.h"

#define DEFAULT_SOCKET "/run/slim/slim.sock"

static void usage(FILE *f)
{
	fprintf(f, "usage: slim-run [--socket PATH] [--] CMD [ARGS...]\n"
		   "       slim-run --print-lib\n"
		   "  Runs CMD with libslim.so preloaded, talking to the slim router at PATH\n"
		   "  (default: $SLIM_SOCKET, else " DEFAULT_SOCKET ").\n"
		   "  SLIM_LIB overrides where libslim.so is found; --print-lib prints the\n"
		   "  libslim.so it would preload and exits.\n");
}

static bool is_file(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Where libslim.so is: $SLIM_LIB, else next to the installed binary, else
 * the build tree. Returns a malloc'ed absolute path, or NULL. */
static char *find_lib(void)
{
	const char *env = getenv("SLIM_LIB");
	char *lib;

	if (env && *env)
		return is_file(env) ? realpath(env, NULL) : NULL;
	lib = self_relative_path(SLIM_LIB_INSTALL_REL);
	if (lib && is_file(lib))
		return lib;
	free(lib);
	if (is_file(SLIM_LIB_BUILD_PATH))
		return realpath(SLIM_LIB_BUILD_PATH, NULL);
	return NULL;
}

/* find_lib, or NULL after saying so. */
static char *find_lib_or_say(void)
{
	char *lib = find_lib();

	if (!lib)
		fprintf(stderr, "slim-run: cannot find libslim.so (set SLIM_LIB)\n");
	return lib;
}

/* Sets SLIM_SOCKET to sock made absolute: libslim connects lazily, on the
 * program's first overlay socket, often after a daemon's chdir("/"), where
 * a relative path would name another file. Returns 0, or -1 (errno). */
static int set_socket(const char *sock)
{
	char *abs = NULL, *cwd;
	int r;

	if (sock[0] == '/')
		return setenv("SLIM_SOCKET", sock, 1);
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return -1;
	r = asprintf(&abs, "%s/%s", cwd, sock);
	free(cwd);
	if (r < 0)
		return -1;
	r = setenv("SLIM_SOCKET", abs, 1);
	free(abs);
	return r;
}

/* LD_PRELOAD with lib first, unless it is already listed. Returns 0, or -1
 * (out of memory). */
static int prepend_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char *val;
	int r;

	if (old && *old) {
		/* already there as a whole list item? */
		size_t ll = strlen(lib);

		for (const char *p = old; (p = strstr(p, lib)) != NULL; p += ll) {
			bool start = p == old || p[-1] == ':' || p[-1] == ' ';
			bool end = p[ll] == 0 || p[ll] == ':' || p[ll] == ' ';

			if (start && end)
				return 0;
		}
		if (asprintf(&val, "%s:%s", lib, old) < 0)
			return -1;
	} else {
		val = strdup(lib);
		if (!val)
			return -1;
	}
	r = setenv("LD_PRELOAD", val, 1);
	free(val);
	return r;
}

/* The file execvp would run for cmd, or NULL (errno) if none. Returns a
 * malloc'ed path. */
static char *resolve_cmd(const char *cmd)
{
	const char *path = getenv("PATH");
	int last = ENOENT;

	if (strchr(cmd, '/'))
		return strdup(cmd);
	if (!path)
		path = "/bin:/usr/bin";
	for (const char *p = path;; p++) {
		const char *e = strchrnul(p, ':');
		char *cand;

		if (asprintf(&cand, "%.*s%s%s", (int)(e - p), p, e == p ? "" : "/", cmd) < 0)
			return NULL;
		if (access(cand, X_OK) == 0 && is_file(cand))
			return cand;
		if (errno == EACCES)
			last = EACCES;
		free(cand);
		if (!*e)
			break;
		p = e;
	}
	errno = last;
	return NULL;
}

/* True if file is an ELF executable without a PT_INTERP header, i.e.
 * statically linked (libslim cannot be preloaded into it). Anything
 * unreadable or not ELF (scripts) counts as not static. */
static bool is_static_elf(const char *file)
{
	Elf64_Ehdr eh;
	bool is_static = false;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    !memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	    (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) && eh.e_phentsize == sizeof(Elf64_Phdr) &&
	    eh.e_phnum > 0 && eh.e_phnum < 4096) {
		is_static = true;
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;

			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) !=
			    (ssize_t)sizeof(ph)) {
				is_static = false;
				break;
			}
			if (ph.p_type == PT_INTERP) {
				is_static = false;
				break;
			}
		}
	}
	close(fd);
	return is_static;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"print-lib", no_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	bool print_lib = false;
	const char *sock = NULL, *cmd;
	char *lib, *file;
	int c;

	/* '+': stop at CMD, its own options are not ours */
	while ((c = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'p':
			print_lib = true;
			break;
		default:
			usage(stderr);
			return 125;
		}
	}
	if (print_lib) {
		if (optind < argc) {
			fprintf(stderr, "slim-run: --print-lib takes no command\n");
			return 125;
		}
		lib = find_lib_or_say();
		if (!lib)
			return 125;
		printf("%s\n", lib);
		free(lib);
		return 0;
	}
	if (optind >= argc) {
		fprintf(stderr, "slim-run: no command given (see slim-run --help)\n");
		return 125;
	}
	cmd = argv[optind];
	if (sock && !*sock) {
		fprintf(stderr, "slim-run: --socket needs a path\n");
		return 125;
	}
	if (!sock) {
		sock = getenv("SLIM_SOCKET");
		if (!sock || !*sock)
			sock = DEFAULT_SOCKET;
	}
	if (set_socket(sock) < 0) {
		fprintf(stderr, "slim-run: cannot set SLIM_SOCKET: %s\n", strerror(errno));
		return 125;
	}

	lib = find_lib_or_say();
	if (!lib)
		return 125;
	if (strpbrk(lib, ": ")) {
		fprintf(stderr,
			"slim-run: %s: path contains ':' or ' ', which LD_PRELOAD cannot "
			"hold (move libslim.so or set SLIM_LIB)\n",
			lib);
		return 125;
	}
	if (prepend_preload(lib) < 0) {
		fprintf(stderr, "slim-run: cannot set LD_PRELOAD: %s\n", strerror(errno));
		return 125;
	}
	free(lib);

	file = resolve_cmd(cmd);
	if (file && is_static_elf(file))
		fprintf(stderr,
			"slim-run: %s is statically linked: libslim cannot intercept it; it will "
			"use the container network\n",
			cmd);
	free(file);

	execvp(cmd, argv + optind);
	c = errno;
	fprintf(stderr, "slim-run: cannot run %s: %s%s\n", cmd, strerror(c),
		c == ENOENT ? " (check the name and PATH)" : "");
	return c == ENOENT ? 127 : 126;
}
