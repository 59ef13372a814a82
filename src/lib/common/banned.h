/* Included last by every .c file of the project: these functions have no length bound or
 * hide errors; use pv_strlcpy, pv_buf_appendf, snprintf, pv_parse_*, gmtime_r instead.
 * (Pattern from git's banned.h.) */
#ifndef PIPROV_BANNED_H
#define PIPROV_BANNED_H

#define PV_BANNED(func) sorry_##func##_is_banned_in_piprov

#undef strcpy
#define strcpy(x, y) PV_BANNED(strcpy)
#undef strcat
#define strcat(x, y) PV_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) PV_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) PV_BANNED(strncat)
#undef sprintf
#define sprintf(...) PV_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) PV_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) PV_BANNED(strtok)
#undef atoi
#define atoi(x) PV_BANNED(atoi)
#undef atol
#define atol(x) PV_BANNED(atol)
#undef gets
#define gets(x) PV_BANNED(gets)
#undef gmtime
#define gmtime(x) PV_BANNED(gmtime)
#undef localtime
#define localtime(x) PV_BANNED(localtime)

#endif
