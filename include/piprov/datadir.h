/* Where piprov finds the data it installs (share/piprov/...).
 *
 * The data is looked up relative to the running program, never at a path fixed when it was
 * built: <program's folder>/../share/piprov. An install under any prefix (cmake --install
 * --prefix P), moved elsewhere or unpacked from a package, finds its own files, the build
 * tree works the same way (it mirrors the layout: build/bin and build/share/piprov), and no
 * build or source path is compiled into the binaries (reproducible builds). */
#ifndef PIPROV_DATADIR_H
#define PIPROV_DATADIR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Write "<folder of /proc/self/exe>/../share/piprov" (the "bin/.." folded away, so
 * /usr/bin/piprov gives /usr/share/piprov) into out. rel, when not NULL or empty, is
 * appended after a '/'. PV_ERR_IO when the program's path cannot be read (no /proc),
 * PV_ERR_TOO_BIG when the result does not fit in size bytes; out is then unchanged. */
int pv_data_dir(const char *rel, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif
