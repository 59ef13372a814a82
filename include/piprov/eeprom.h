/* Raspberry Pi bootloader SPI EEPROM images (pieeprom-*.bin): parse, inspect, patch and
 * digest them. Patching produces exactly the bytes of the official rpi-eeprom-config
 * (raspberrypi/rpi-eeprom at 86759b04) whenever that tool succeeds; where the official tool
 * has a bug the engine refuses instead (see docs/eeprom.md, "Differences").
 *
 * Image layout in one paragraph (details: docs/eeprom.md): a stream of sections starting at
 * offset 0, each an 8-byte big-endian header (magic, length) followed by `length` bytes and
 * padded to 8 bytes. Offset 0 holds the second-stage "bootcode" section; FILE sections
 * (bootconf.txt, bootconf.sig, pubkey.bin, cacert.der, updatetime, bootsys) carry a 12-byte
 * name and a reserved word before their content; PAD sections fill gaps with 0xff. The last
 * 4 KiB are reserved for the bootloader.
 *
 * Typical use (the USB host tool building a per-board image):
 *
 *	struct pv_eeprom_image img;
 *	pv_eeprom_load(&img, "pieeprom-2025-05-08.bin");
 *	pv_eeprom_update_file(&img, PV_EEPROM_BOOTCONF_TXT, conf, conf_len);
 *	pv_eeprom_set_timestamp(&img, now);
 *	pv_eeprom_save(&img, "pieeprom.bin");
 *	pv_eeprom_sig_create(img.data, img.size, &sig_opts, &sig_text);   -> pieeprom.sig
 *	pv_eeprom_release(&img);
 */
#ifndef PIPROV_EEPROM_H
#define PIPROV_EEPROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "piprov/board.h"
#include "piprov/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Section magics (big-endian on flash). A header is valid when (magic & MASK) == GENERIC. */
#define PV_EEPROM_MAGIC_GENERIC 0x55aaf00fu /* offset 0 (bootcode) and code/data payloads */
#define PV_EEPROM_MAGIC_PAD 0x55aafeefu     /* padding; payload is 0xff */
#define PV_EEPROM_MAGIC_FILE 0x55aaf11fu    /* modifiable file with a 12-byte name */
#define PV_EEPROM_MAGIC_MASK 0xfffff00fu

#define PV_EEPROM_ERASE_SIZE 4096u     /* flash sector; also the reserved tail */
#define PV_EEPROM_FILE_HDR_LEN 20u     /* length word + 12-byte name + reserved word */
#define PV_EEPROM_FILENAME_LEN 12u
#define PV_EEPROM_MAX_FILE_SIZE 4076u  /* largest bootconf.txt/.sig/pubkey/cacert content */
#define PV_EEPROM_RO_SIZE 0x10000u     /* A/B images: read-only region */
#define PV_EEPROM_PARTITION_END 0x107000u /* A/B images: end of partition A (64K + 988K) */
#define PV_EEPROM_PUBKEY_LEN 264u      /* pubkey.bin: n (256 B LE) + e (8 B LE) */

/* Names of the FILE sections the tools know. */
#define PV_EEPROM_BOOTCONF_TXT "bootconf.txt"
#define PV_EEPROM_BOOTCONF_SIG "bootconf.sig"
#define PV_EEPROM_PUBKEY_BIN "pubkey.bin"
#define PV_EEPROM_CACERT_DER "cacert.der"
#define PV_EEPROM_UPDATETIME "updatetime"
#define PV_EEPROM_BOOTSYS "bootsys"
/* Not a FILE section: the name rpi-eeprom-config -x gives the offset-0 section. */
#define PV_EEPROM_BOOTCODE_BIN "bootcode.bin"

struct pv_eeprom_section {
	uint32_t magic;
	size_t offset;       /* of the 8-byte header */
	uint32_t length;     /* bytes after the header */
	char name[PV_EEPROM_FILENAME_LEN + 1]; /* FILE sections: the name, NULs removed; else "" */
};

/* A parsed image. The engine owns `data` (a private copy of the input) and keeps
 * `sections` in step with it after every successful edit. Read the fields; change the
 * image only through the functions below. */
struct pv_eeprom_image {
	unsigned char *data;
	size_t size;                        /* 524288 or 2097152 */
	const struct pv_soc_info *soc;      /* from the size via the board table */
	struct pv_eeprom_section *sections;
	size_t nsections;
	bool ab;                            /* has a bootsys section (A/B layout) */
	char *name;                         /* file name or caller's label, for messages */
	bool mapped;                        /* internal: data is a private file mapping */
};

/* Parse `size` bytes (copied) into img. `name` labels messages ("'NAME': ..."); it may be
 * NULL ("image"). Fails with PV_ERR_FORMAT on a size other than the EEPROM sizes in the
 * board table, a bad magic (offset 0 must hold the bootcode section), a truncated header,
 * a section running past the end of the image, or a FILE section too short for its
 * name. */
int pv_eeprom_parse(struct pv_eeprom_image *img, const void *data, size_t size, const char *name);

/* Read and parse a file ("-" = stdin; gzip-compressed files are decompressed). A plain
 * file is mapped copy-on-write rather than read (only pages an edit changes are copied);
 * do not truncate the file while the image is loaded. */
int pv_eeprom_load(struct pv_eeprom_image *img, const char *path);

/* Free everything; the struct may be parsed into again. Accepts a zeroed struct. */
void pv_eeprom_release(struct pv_eeprom_image *img);

/* Write the image to path atomically (temporary file, re-parsed, then renamed). */
int pv_eeprom_save(const struct pv_eeprom_image *img, const char *path);

/* Index of the first FILE section called `name` whose header lies in [lo, hi), or -1. */
long pv_eeprom_find_section(const struct pv_eeprom_image *img, const char *name, size_t lo,
			    size_t hi);

/* Content of FILE `name` (first match anywhere), or of the bootcode section when name is
 * PV_EEPROM_BOOTCODE_BIN. Points into img->data; valid until the next edit.
 * PV_ERR_NOT_FOUND when absent. */
int pv_eeprom_get_file(const struct pv_eeprom_image *img, const char *name,
		       const unsigned char **data, size_t *len);

/* Room for `name` at its place in the writable window: the most content bytes that
 * pv_eeprom_update_file accepts (at most PV_EEPROM_MAX_FILE_SIZE, except bootsys). */
int pv_eeprom_file_capacity(const struct pv_eeprom_image *img, const char *name, size_t *cap);

/* Replace FILE `name` (bootconf.txt, bootconf.sig, pubkey.bin, cacert.der, bootsys) in the
 * writable window (0x10000..0x107000 for A/B images) exactly as rpi-eeprom-config does:
 * new length, content, 0xff to an 8-byte boundary, then a PAD section (or plain 0xff when
 * the file is the last section) up to the next non-PAD section. On failure the image is
 * unchanged: PV_ERR_TOO_BIG (over 4076 bytes), PV_ERR_NOT_FOUND (no such file),
 * PV_ERR_NO_SPACE (message names the capacity; see pv_eeprom_file_capacity), PV_ERR_FORMAT
 * (a crafted image whose bytes after the edited section would not parse). */
int pv_eeprom_update_file(struct pv_eeprom_image *img, const char *name, const void *data,
			  size_t len);

/* Replace the offset-0 bootcode section (2712 signed boot). Refuses non-A/B images whose
 * next section starts below 128 KiB, and (unlike the official tool) content that would run
 * into the next section. */
int pv_eeprom_update_bootcode(struct pv_eeprom_image *img, const void *data, size_t len);

/* Set the update timestamp: the `updatetime` files of an A/B-era image (read-only copy and
 * partition copy), else the last 8 bytes of the image. Stored little-endian as ~ts, ts. */
int pv_eeprom_set_timestamp(struct pv_eeprom_image *img, uint32_t ts);

/* One input of pv_eeprom_apply_edits: bytes plus where they came from (for messages). */
struct pv_eeprom_blob {
	const void *data;
	size_t len;
	const char *source;            /* file name; NULL: the section name is used */
};

/* Everything rpi-eeprom-config can change in one run. NULL members are left alone. */
struct pv_eeprom_edits {
	bool set_timestamp;
	uint32_t timestamp;
	const struct pv_eeprom_blob *bootcode;
	const struct pv_eeprom_blob *bootsys;
	const struct pv_eeprom_blob *cacert;      /* cacert.der */
	const struct pv_eeprom_blob *config;      /* bootconf.txt */
	const struct pv_eeprom_blob *digest;      /* bootconf.sig */
	const struct pv_eeprom_blob *pubkey_pem;  /* converted to pubkey.bin */
};

/* Apply edits in rpi-eeprom-config's order (timestamp, bootcode, bootsys, cacert.der,
 * bootconf.txt, bootconf.sig, pubkey.bin). All or nothing: on failure img is unchanged. */
int pv_eeprom_apply_edits(struct pv_eeprom_image *img, const struct pv_eeprom_edits *edits);

/* Convert a PEM RSA public key (SubjectPublicKeyInfo or PKCS#1; a private key PEM is
 * accepted too) into pubkey.bin's 264 bytes. PV_ERR_CRYPTO unless it is 2048-bit RSA.
 * `name` labels messages. */
int pv_eeprom_pubkey_from_pem(const void *pem, size_t len, const char *name,
			      unsigned char out[PV_EEPROM_PUBKEY_LEN]);

/* What `piprov eeprom info` shows. */
struct pv_eeprom_info {
	const struct pv_soc_info *soc;
	size_t size;
	bool ab;
	uint64_t build_timestamp;      /* BUILD_TIMESTAMP=<n>; 0 when absent */
	char version[41];              /* VERSION:<hex> git hash; "" when absent */
	long mfg_version;              /* MFG_VER: <n>; -1 when absent */
	size_t nsections;
	size_t nfiles;                 /* FILE sections */
	bool has_bootconf;
	size_t bootconf_offset;        /* header offset of bootconf.txt */
	size_t bootconf_len;           /* current content length */
	size_t bootconf_capacity;      /* largest bootconf.txt this image accepts */
	bool bootconf_is_last;
	bool has_bootconf_sig;         /* the image has a bootconf.sig section */
	bool config_signed;            /* bootconf.sig holds a signature (not the 0x00 placeholder) */
	bool has_pubkey;
	bool pubkey_set;               /* pubkey.bin holds a key (not the 0x00 placeholder) */
	bool has_update_timestamp;     /* the stored ~ts/ts pair is consistent */
	uint32_t update_timestamp;
};

int pv_eeprom_get_info(const struct pv_eeprom_image *img, struct pv_eeprom_info *out);

/* ---- .sig files (rpi-eeprom-digest) ---- */

struct pv_eeprom_sig_options {
	/* ts: line. Negative: $SOURCE_DATE_EPOCH when set (must be a decimal number), else
	 * the current time. */
	int64_t timestamp;
	/* Adds "target-soc: 2711" etc. when not NULL. */
	const struct pv_soc_info *target_soc;
	/* PEM RSA-2048 private key file: adds "rsa2048: <hex>" (PKCS#1 v1.5, SHA-256). */
	const char *private_key_path;
};

/* Append the .sig text of data[0..len) to out:
 * "<sha256 hex>\nts: N\n[target-soc: S\n][rsa2048: HEX\n]". */
int pv_eeprom_sig_create(const void *data, size_t len, const struct pv_eeprom_sig_options *opt,
			 struct pv_buf *out);
/* The same text, unsigned, from the data's SHA-256 digest (the caller hashed it already;
 * opt->private_key_path must be NULL: PV_ERR_INVALID). The text's length does not depend
 * on the digest. */
int pv_eeprom_sig_from_digest(const unsigned char sha256_digest[32],
			      const struct pv_eeprom_sig_options *opt, struct pv_buf *out);
/* The ts: value opt->timestamp gives (see above): resolve it once to make two texts
 * agree. Returns PV_OK or PV_ERR_INVALID (a bad $SOURCE_DATE_EPOCH). */
int pv_eeprom_sig_timestamp(int64_t requested, uint64_t *ts);

struct pv_eeprom_sig {
	char sha256_hex[65];
	bool has_timestamp;
	uint64_t timestamp;
	char target_soc[16];           /* "" when absent */
	bool has_rsa;
	unsigned char rsa[256];
};

/* Parse .sig text (at most 4 KiB). `name` labels messages with line numbers. */
int pv_eeprom_sig_parse(const void *text, size_t len, const char *name,
			struct pv_eeprom_sig *out);

/* Check data against sig: the sha256 must match (PV_ERR_VERIFY otherwise). With
 * pubkey_path, the rsa2048 signature must also be present and valid for that PEM public
 * key. */
int pv_eeprom_sig_verify(const void *data, size_t len, const struct pv_eeprom_sig *sig,
			 const char *pubkey_path);

/* Is the image's config validly signed? bootconf.sig must name the sha256 of bootconf.txt
 * and carry an rsa2048 signature that verifies with the key in pubkey.bin (what the
 * bootloader checks in signed-boot mode). PV_ERR_NOT_FOUND when the config is unsigned,
 * PV_ERR_VERIFY when the signature or key does not match. */
int pv_eeprom_verify_signed_config(const struct pv_eeprom_image *img);

/* ---- synthetic images ---- */

struct pv_eeprom_synth_options {
	uint32_t build_timestamp;      /* 0: a fixed default */
	const char *version;           /* git-hash-like string; NULL: a fixed default */
	const void *bootconf;          /* NULL: the SoC's release network config */
	size_t bootconf_len;
	bool ab;                       /* A/B layout (BCM2712 only) */
	/* Shrink bootconf.txt's room by placing another section after it (0: full 4076). */
	size_t bootconf_capacity;
	uint32_t seed;                 /* varies the filler payload bytes */
};

/* Build an image with the real layout for `soc` (bootcode at 0, payload sections, PADs,
 * pubkey.bin, [cacert.der,] bootconf.sig and bootconf.txt FILE sections, BUILD_TIMESTAMP
 * and VERSION strings, reserved 0xff tail) using the engine's own writer, into out
 * (replacing its contents). Payload bytes are filler, not bootloader code. opt may be NULL. */
int pv_eeprom_synthesize(enum pv_soc soc, const struct pv_eeprom_synth_options *opt,
			 struct pv_buf *out);

#ifdef __cplusplus
}
#endif
#endif
