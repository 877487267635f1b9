/* uds-path.h - claiming an AF_UNIX socket path: live is an error, stale is replaced. */
#ifndef VSE_UDS_PATH_H
#define VSE_UDS_PATH_H

#include <stddef.h>

/*
 * Makes path free for bind(): nothing there is fine; a socket nobody
 * accepts on (left by a killed process) is removed; a live socket or any
 * other kind of file is an error, described in err. Returns 0 or -1.
 */
int uds_path_prepare(const char *path, char *err, size_t errlen);

#endif
