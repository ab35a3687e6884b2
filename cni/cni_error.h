/* CNI errors: the spec's well-known codes, slim's own (100 and up), and the
 * one error a command ends with. docs/operations.md ("CNI plugin") lists
 * them for operators. */
#ifndef SLIM_CNI_ERROR_H
#define SLIM_CNI_ERROR_H

enum cni_code {
	/* Well-known codes of the CNI spec (1-99 are reserved to it). */
	CNI_ERR_VERSION = 1,	/* incompatible CNI version */
	CNI_ERR_ENV = 4,	/* invalid necessary environment variable */
	CNI_ERR_IO = 5,		/* I/O failure (reading the configuration) */
	CNI_ERR_DECODE = 6,	/* the configuration is not JSON */
	CNI_ERR_CONFIG = 7,	/* invalid network configuration */
	CNI_ERR_TRY_LATER = 11, /* no router now: the runtime may retry */
	/* slim's own. */
	SLIM_CNI_ERR_REFUSED = 100,	   /* the router refused the container */
	SLIM_CNI_ERR_DUPLICATE = 101,	   /* its id, address or netns is registered already */
	SLIM_CNI_ERR_NOT_REGISTERED = 102, /* CHECK: the router does not know the container */
	SLIM_CNI_ERR_MISMATCH = 103,	   /* CHECK: registered with another address or netns */
	SLIM_CNI_ERR_ROUTER = 104,	   /* the router failed otherwise (bad reply, errno) */
};

struct cni_error {
	int code;	    /* enum cni_code; 0: no error */
	char msg[512];	    /* one line: what is wrong and what to do */
	char details[1024]; /* more context (the router's own words), may be empty */
};

/* Fills *e (details may be NULL) and returns -1, so that a failed step
 * reads as: return cni_fail(e, CNI_ERR_ENV, NULL, "...", ...). */
int cni_fail(struct cni_error *e, int code, const char *details, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
