/* EEPROM image parser and patcher. The update rules follow rpi-eeprom-config at 86759b04
 * (../shared/docs/eeprom-format.md §1-2) byte for byte; where that tool corrupts an image
 * (file content overrunning the next section header, bootcode without a size check) this
 * engine refuses instead. Every edit validates first and then writes, so a failed edit
 * leaves the image as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "piprov/eeprom.h"
#include "piprov/fileio.h"
#include "eeprom_internal.h"
#include "eeprom_conf_internal.h"
#include "banned.h"

#define BOOTCODE_RESERVED (128u * 1024u) /* non-A/B images keep 128 KiB for the bootcode */

uint32_t pv_eeprom_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void pv_eeprom_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static const char *label(const struct pv_eeprom_image *img)
{
	return img->name ? img->name : "image";
}

/* Build the section table of data[0..size). Everything a later edit relies on is checked
 * here: headers and payloads inside the image, FILE
 * sections long enough for their name, the generic section at offset 0. */
static int scan_sections_from(const unsigned char *data, size_t size, size_t start,
			      const char *name, struct pv_eeprom_section **out, size_t *count)
{
	struct pv_eeprom_section *sections = NULL, *grown;
	size_t n = 0, cap = 0, off = start;
	int rc;

	while (off < size) {
		uint32_t magic, length;
		struct pv_eeprom_section *s;

		if (off + 8 > size) {
			rc = pv_fail(PV_ERR_FORMAT, "eeprom",
				     "'%s': truncated section header at offset 0x%zx", name, off);
			goto out_free_sections;
		}
		magic = pv_eeprom_be32(data + off);
		length = pv_eeprom_be32(data + off + 4);
		if (magic == 0 || magic == 0xffffffffu)
			break;
		if ((magic & PV_EEPROM_MAGIC_MASK) != PV_EEPROM_MAGIC_GENERIC) {
			rc = pv_fail(PV_ERR_FORMAT, "eeprom",
				     off == 0 ? "'%s': not a bootloader EEPROM image: bad magic "
						"0x%08x at offset 0x%zx"
					      : "'%s': corrupted: bad section magic 0x%08x at "
						"offset 0x%zx",
				     name, magic, off);
			goto out_free_sections;
		}
		if (off == 0 && magic != PV_EEPROM_MAGIC_GENERIC) {
			rc = pv_fail(PV_ERR_FORMAT, "eeprom",
				     "'%s': not a bootloader EEPROM image: section at offset 0 has "
				     "magic 0x%08x, not the bootcode magic 0x%08x",
				     name, magic, PV_EEPROM_MAGIC_GENERIC);
			goto out_free_sections;
		}
		if (off == 0 && length == 0) {
			/* Nothing to boot: a first stage that is all header is a damaged or
			 * hand-made image, not one whose bootconf.txt merely has no room. */
			rc = pv_fail(PV_ERR_FORMAT, "eeprom",
				     "'%s': not a bootloader EEPROM image: the bootcode section at "
				     "offset 0 is empty (length 0)", name);
			goto out_free_sections;
		}
		if ((uint64_t)off + 8 + length > size) {
			rc = pv_fail(PV_ERR_FORMAT, "eeprom",
				     "'%s': section at offset 0x%zx (length %u) runs past the end "
				     "of the image (%zu bytes)", name, off, length, size);
			goto out_free_sections;
		}
		if (magic == PV_EEPROM_MAGIC_FILE && length < 16) {
			rc = pv_fail(PV_ERR_FORMAT, "eeprom",
				     "'%s': file section at offset 0x%zx is too short (length %u)",
				     name, off, length);
			goto out_free_sections;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(sections, cap * sizeof(*sections));
			if (!grown) {
				rc = pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
				goto out_free_sections;
			}
			sections = grown;
		}
		s = &sections[n++];
		memset(s, 0, sizeof(*s));
		s->magic = magic;
		s->offset = off;
		s->length = length;
		if (magic == PV_EEPROM_MAGIC_FILE) {
			size_t k = 0;
			for (size_t i = 0; i < PV_EEPROM_FILENAME_LEN; i++) {
				unsigned char c = data[off + 8 + i];
				if (c == 0)
					continue; /* the official parser drops every NUL */
				if (c < 0x20 || c > 0x7e) {
					rc = pv_fail(PV_ERR_FORMAT, "eeprom",
						     "'%s': file section at offset 0x%zx has a "
						     "non-printable name", name, off);
					goto out_free_sections;
				}
				s->name[k++] = (char)c;
			}
		}
		off = (off + 8 + length + 7) & ~(size_t)7;
	}
	if (n == 0 && start == 0) {
		rc = pv_fail(PV_ERR_FORMAT, "eeprom",
			     "'%s': not a bootloader EEPROM image: no sections (blank flash?)", name);
		goto out_free_sections;
	}
	*out = sections;
	*count = n;
	return PV_OK;

out_free_sections:
	free(sections);
	return rc;
}

static int scan_sections(const unsigned char *data, size_t size, const char *name,
			 struct pv_eeprom_section **out, size_t *count)
{
	return scan_sections_from(data, size, 0, name, out, count);
}

/* Would the section stream starting at `start` of the current bytes parse? */
static int check_stream_from(const struct pv_eeprom_image *img, size_t start)
{
	struct pv_eeprom_section *sections = NULL;
	size_t n = 0;
	int rc = scan_sections_from(img->data, img->size, start, img->name ? img->name : "image",
				    &sections, &n);

	free(sections);
	return rc;
}

static int rescan(struct pv_eeprom_image *img)
{
	struct pv_eeprom_section *sections = NULL;
	size_t n = 0;
	int rc = scan_sections(img->data, img->size, label(img), &sections, &n);

	if (rc)
		return rc;
	free(img->sections);
	img->sections = sections;
	img->nsections = n;
	img->ab = false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(sections[i].name, PV_EEPROM_BOOTSYS) == 0)
			img->ab = true;
	return PV_OK;
}

static const struct pv_soc_info *soc_for_size(size_t size, const char *name)
{
	const struct pv_soc_info *soc = pv_soc_by_eeprom_size(size);
	char sizes[64] = "";
	size_t used = 0;

	if (soc)
		return soc;
	for (size_t i = 0; pv_soc_at(i); i++) {
		const struct pv_soc_info *s = pv_soc_at(i);
		if (!s->eeprom_size || used >= sizeof(sizes))
			continue;
		used += (size_t)snprintf(sizes + used, sizeof(sizes) - used, "%s%zu",
					 used ? ", " : "", s->eeprom_size);
	}
	pv_fail(PV_ERR_FORMAT, "eeprom", "'%s': expected an image of %s bytes, got %zu bytes",
		name, sizes, size);
	return NULL;
}

/* Parse `data` (malloc'd, or mmap'd when `mapped`) and take ownership of it, also on
 * failure. */
static int adopt(struct pv_eeprom_image *img, unsigned char *data, size_t size, const char *name,
		 bool mapped)
{
	struct pv_eeprom_image tmp = { 0 };
	int rc;

	tmp.data = data;
	tmp.mapped = mapped;
	tmp.size = size;
	tmp.soc = soc_for_size(size, name);
	if (!tmp.soc) {
		rc = PV_ERR_FORMAT;
		goto out_release;
	}
	tmp.name = strdup(name);
	if (!tmp.name) {
		rc = pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
		goto out_release;
	}
	rc = rescan(&tmp);
	if (rc)
		goto out_release;
	if (pv_log_get_level() >= PV_LOG_DEBUG)
		for (size_t i = 0; i < tmp.nsections; i++)
			pv_log(PV_LOG_DEBUG, "eeprom", "'%s': section at 0x%zx length %u magic %08x %s",
			       name, tmp.sections[i].offset, tmp.sections[i].length,
			       tmp.sections[i].magic, tmp.sections[i].name);
	*img = tmp;
	return PV_OK;

out_release:
	pv_eeprom_release(&tmp);
	return rc;
}

int pv_eeprom_parse(struct pv_eeprom_image *img, const void *data, size_t size, const char *name)
{
	unsigned char *copy;

	if (!name)
		name = "image";
	if (!soc_for_size(size, name))
		return PV_ERR_FORMAT;
	copy = malloc(size);
	if (!copy)
		return pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
	memcpy(copy, data, size);
	return adopt(img, copy, size, name, false);
}

int pv_eeprom_reparse(struct pv_eeprom_image *img, const void *data, size_t size,
		      const char *name)
{
	char *label_copy;
	int rc;

	if (!name)
		name = "image";
	if (!img->data || img->mapped || img->size != size) {
		pv_eeprom_release(img);
		return pv_eeprom_parse(img, data, size, name);
	}
	if (!img->name || strcmp(img->name, name) != 0) {
		label_copy = strdup(name);
		if (!label_copy)
			return pv_fail(PV_ERR_NOMEM, "eeprom", "out of memory");
		free(img->name);
		img->name = label_copy;
	}
	memcpy(img->data, data, size);
	rc = rescan(img);
	if (rc) {
		/* rescan kept the previous table, which no longer describes the bytes. */
		free(img->sections);
		img->sections = NULL;
		img->nsections = 0;
		img->ab = false;
	}
	return rc;
}

static size_t largest_eeprom(void)
{
	size_t max = 0;

	for (size_t i = 0; pv_soc_at(i); i++)
		if (pv_soc_at(i)->eeprom_size > max)
			max = pv_soc_at(i)->eeprom_size;
	return max;
}

/* A plain file of an EEPROM size: map it copy-on-write instead of reading it, so only the
 * pages an edit changes are ever copied (an image is 2 MiB; a config edit touches one
 * page). 1 when mapped, 0 when the caller should read it, negative on failure. */
static int map_image(struct pv_eeprom_image *img, const char *path)
{
	struct stat st;
	unsigned char magic[2];
	void *map;
	int fd, rc = 0;

	if (strcmp(path, "-") == 0)
		return 0;
	fd = pv_file_open_input(path, 0);
	if (fd < 0)
		return 0; /* the read path reports it (or reads a stream) */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !pv_soc_by_eeprom_size((size_t)st.st_size) || pread(fd, magic, 2, 0) != 2 ||
	    (magic[0] == 0x1f && magic[1] == 0x8b))
		goto out_close;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		goto out_close;
	rc = adopt(img, map, (size_t)st.st_size, path, true);
	rc = rc ? rc : 1;
out_close:
	close(fd);
	return rc;
}

int pv_eeprom_load(struct pv_eeprom_image *img, const char *path)
{
	struct pv_buf buf = PV_BUF_INIT(SIZE_MAX);
	size_t max = largest_eeprom(), len;
	unsigned char *data;
	int rc = map_image(img, path);

	if (rc)
		return rc < 0 ? rc : PV_OK;

	/* One allocation for the whole image; one byte over the largest size so an
	 * oversized file is recognised. */
	rc = pv_buf_reserve(&buf, max + 1);
	if (rc == 0)
		rc = pv_file_read(path, max + 1, &buf);
	if (rc == PV_ERR_TOO_BIG) {
		rc = pv_fail(PV_ERR_FORMAT, "eeprom",
			     "'%s': too large for a bootloader EEPROM image (over %zu bytes)",
			     path, max);
		goto out_release_buf;
	}
	if (rc)
		goto out_release_buf;
	data = pv_buf_detach(&buf, &len);
	if (!data) {
		soc_for_size(0, path); /* an empty file: the size message */
		rc = PV_ERR_FORMAT;
		goto out_release_buf;
	}
	return adopt(img, data, len, path, false);

out_release_buf:
	pv_buf_release(&buf);
	return rc;
}

void pv_eeprom_release(struct pv_eeprom_image *img)
{
	if (!img)
		return;
	if (img->mapped)
		munmap(img->data, img->size);
	else
		free(img->data);
	free(img->sections);
	free(img->name);
	memset(img, 0, sizeof(*img));
}

/* Compare the file at path with data, reading it back in small chunks. */
static int read_back_matches(const char *path, const unsigned char *data, size_t size)
{
	unsigned char chunk[64 * 1024];
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = PV_OK;

	if (fd < 0)
		return pv_fail_errno(errno, "eeprom", "cannot read back '%s'", path);
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = pv_fail_errno(errno, "eeprom", "cannot read back '%s'", path);
			break;
		}
		if (got == 0 || done + (size_t)got > size ||
		    memcmp(chunk, data + done, (size_t)got) != 0) {
			if (got != 0 || done != size)
				rc = pv_fail(PV_ERR_VERIFY, "eeprom",
					     "'%s': read-back differs from what was written", path);
			break;
		}
		done += (size_t)got;
	}
	close(fd);
	return rc;
}

int pv_eeprom_save(const struct pv_eeprom_image *img, const char *path)
{
	struct pv_eeprom_section *sections = NULL;
	struct pv_atomic_file af;
	size_t n = 0;
	int rc;

	/* Never write something this engine could not read back. */
	rc = scan_sections(img->data, img->size, path, &sections, &n);
	if (rc)
		return rc;
	free(sections);
	rc = pv_atomic_open(&af, path, 0644);
	if (rc)
		return rc;
	rc = pv_atomic_write(&af, img->data, img->size);
	if (rc == 0 && af.tmp_path)
		rc = read_back_matches(af.tmp_path, img->data, img->size);
	if (rc) {
		pv_atomic_abort(&af);
		return rc;
	}
	return pv_atomic_commit(&af);
}

long pv_eeprom_find_section(const struct pv_eeprom_image *img, const char *name, size_t lo,
			    size_t hi)
{
	for (size_t i = 0; i < img->nsections; i++) {
		const struct pv_eeprom_section *s = &img->sections[i];
		if (s->offset >= lo && s->offset < hi && s->magic == PV_EEPROM_MAGIC_FILE &&
		    strcmp(s->name, name) == 0)
			return (long)i;
	}
	return -1;
}

/* rpi-eeprom-config's find_file(): the section, whether it is the last one (PADs count),
 * and where the next non-PAD section starts (default: the window end, never inside the
 * reserved tail). */
struct file_slot {
	long index;
	bool is_last;
	size_t next;
	bool next_is_section; /* next is a real section's header, not a default bound */
};

static struct file_slot find_slot(const struct pv_eeprom_image *img, const char *name, size_t lo,
				  size_t hi)
{
	struct file_slot slot;
	size_t i;

	slot.next_is_section = false;
	slot.next = img->size - PV_EEPROM_ERASE_SIZE;
	if (hi < slot.next)
		slot.next = hi;
	slot.index = pv_eeprom_find_section(img, name, lo, hi);
	slot.is_last = slot.index >= 0 && (size_t)slot.index == img->nsections - 1;
	i = slot.index >= 0 ? (size_t)slot.index + 1 : img->nsections;
	for (; i < img->nsections; i++) {
		if (img->sections[i].magic != PV_EEPROM_MAGIC_PAD) {
			slot.next = img->sections[i].offset;
			slot.next_is_section = true;
			break;
		}
	}
	return slot;
}

int pv_eeprom_get_file(const struct pv_eeprom_image *img, const char *name,
		       const unsigned char **data, size_t *len)
{
	long idx;

	if (strcmp(name, PV_EEPROM_BOOTCODE_BIN) == 0) {
		*data = img->data + 8;
		*len = img->sections[0].length;
		return PV_OK;
	}
	idx = pv_eeprom_find_section(img, name, 0, SIZE_MAX);
	if (idx < 0)
		return pv_fail(PV_ERR_NOT_FOUND, "eeprom", "'%s': has no '%s' file", label(img),
			       name);
	*data = img->data + img->sections[idx].offset + 8 + 16;
	*len = img->sections[idx].length - 16;
	return PV_OK;
}

static bool size_limited(const char *name)
{
	return strcmp(name, PV_EEPROM_BOOTSYS) != 0;
}

/* The most content bytes that fit. The official tool checks len + 20 against the next
 * section although the content ends at hdr + 24 + len, so a file of exactly its "maximum"
 * overwrites 4 bytes beyond. Into the reserved tail that is harmless and every release
 * image relies on it for 4076-byte configs, so it is allowed there; over the header of a
 * following section (or the partition-B PAD of an A/B image) it corrupts the image, so
 * there the honest bound applies. Never past the start of the reserved tail + 4. */
static size_t slot_capacity(const struct pv_eeprom_image *img, const struct file_slot *slot,
			    const char *name)
{
	size_t hdr = img->sections[slot->index].offset;
	size_t tail = img->size - PV_EEPROM_ERASE_SIZE;
	size_t end = slot->next;
	size_t room;

	if (!slot->next_is_section && slot->next == tail)
		end += 4;
	if (end > tail + 4)
		end = tail + 4;
	room = end > hdr + 24 ? end - hdr - 24 : 0;
	if (size_limited(name) && room > PV_EEPROM_MAX_FILE_SIZE)
		room = PV_EEPROM_MAX_FILE_SIZE;
	return room;
}

int pv_eeprom_file_capacity(const struct pv_eeprom_image *img, const char *name, size_t *cap)
{
	struct file_slot slot = find_slot(img, name, PV_EEPROM_RO_SIZE, PV_EEPROM_PARTITION_END);

	if (slot.index < 0)
		return pv_fail(PV_ERR_NOT_FOUND, "eeprom", "'%s': has no '%s' file to update",
			       label(img), name);
	*cap = slot_capacity(img, &slot, name);
	return PV_OK;
}

/* Content ends at p: 0xff to the 8-byte boundary, then a PAD header unless the section is
 * the last one, then 0xff up to next. */
/* memset(p, 0xff, len), but only where a byte differs: the gap is nearly always erased
 * already, and not writing it keeps a copy-on-write mapped image from copying its pages.
 * A chunk is erased when its first byte is 0xff and every byte equals the next (one memcmp
 * of the chunk against itself shifted by one, instead of a loop over the bytes: this runs
 * over most of the image on every edit). */
static void set_erased(unsigned char *p, size_t len)
{
	const size_t chunk = 4096;

	while (len) {
		size_t n = len < chunk ? len : chunk;
		if (p[0] != 0xff || (n > 1 && memcmp(p, p + 1, n - 1) != 0))
			memset(p, 0xff, n);
		p += n;
		len -= n;
	}
}

static void fill_to(struct pv_eeprom_image *img, size_t p, size_t next, bool is_last)
{
	size_t pad;

	while (p % 8) {
		img->data[p++] = 0xff;
	}
	pad = next > p ? next - p : 0;
	if (pad >= 8 && !is_last) {
		pad -= 8;
		pv_eeprom_put_be32(img->data + p, PV_EEPROM_MAGIC_PAD);
		pv_eeprom_put_be32(img->data + p + 4, (uint32_t)pad);
		p += 8;
	}
	set_erased(img->data + p, pad);
}

/* After an edit only the bytes from the edited section's header up to `next` change, and
 * the callers check beforehand that the stream resuming after them parses; so the re-scan
 * cannot fail and a failed edit never needs undoing. */
static int finish_edit(struct pv_eeprom_image *img)
{
	int rc = rescan(img);

	if (rc)
		return pv_fail(PV_ERR_FORMAT, "eeprom", "'%s': internal error: edit produced an "
			       "unreadable image", label(img));
	return PV_OK;
}

/* bootconf.txt is text: a NUL byte in it is a mistake (a binary file given as the config,
 * a corrupt download) that the official tool writes anyway. `label` names the input. */
static int refuse_nul_config(const char *label, const void *data, size_t len)
{
	const unsigned char *text = data, *nul = len ? memchr(text, 0, len) : NULL;
	unsigned line = 1;

	if (!nul)
		return PV_OK;
	for (const unsigned char *p = text; p < nul; p++)
		line += *p == '\n';
	return pv_fail(PV_ERR_INVALID, "eeprom",
		       "'%s': line %u holds a NUL byte (offset %zu): bootconf.txt must be text",
		       label, line, (size_t)(nul - text));
}

int pv_eeprom_update_file(struct pv_eeprom_image *img, const char *name, const void *data,
			  size_t len)
{
	struct file_slot slot;
	size_t hdr, cap, end;
	int rc;

	if (size_limited(name) && len > PV_EEPROM_MAX_FILE_SIZE)
		return pv_fail(PV_ERR_TOO_BIG, "eeprom",
			       "'%s': %s is too large (%zu bytes); the maximum size is %u bytes",
			       label(img), name, len, PV_EEPROM_MAX_FILE_SIZE);
	if (strcmp(name, PV_EEPROM_BOOTCONF_TXT) == 0 &&
	    (rc = refuse_nul_config(PV_EEPROM_BOOTCONF_TXT, data, len)))
		return rc;
	slot = find_slot(img, name, PV_EEPROM_RO_SIZE, PV_EEPROM_PARTITION_END);
	if (slot.index < 0)
		return pv_fail(PV_ERR_NOT_FOUND, "eeprom", "'%s': has no '%s' file to update",
			       label(img), name);
	cap = slot_capacity(img, &slot, name);
	if (len > cap)
		return pv_fail(PV_ERR_NO_SPACE, "eeprom",
			       "'%s': no space for %s of %zu bytes: this image has room for %zu "
			       "bytes", label(img), name, len, cap);
	hdr = img->sections[slot.index].offset;
	/* Where the parser resumes after the rewritten section: at `next` behind a PAD, at
	 * the content's aligned end when that reaches past `next` (the 4-byte tail case), and
	 * nowhere when 0xff fills up to `next` (end of stream). That part is not rewritten,
	 * so it must already parse; a crafted image whose "free" space holds garbage is
	 * refused here rather than turned into an unreadable one. */
	end = (hdr + 24 + len + 7) & ~(size_t)7;
	if (end >= slot.next || (!slot.is_last && slot.next - end >= 8))
		rc = check_stream_from(img, end >= slot.next ? end : slot.next);
	else
		rc = PV_OK;
	if (rc)
		return rc;
	pv_eeprom_put_be32(img->data + hdr + 4, (uint32_t)(len + PV_EEPROM_FILENAME_LEN + 4));
	if (len)
		memcpy(img->data + hdr + 8 + 16, data, len);
	fill_to(img, hdr + 8 + 16 + len, slot.next, slot.is_last);
	return finish_edit(img);
}

int pv_eeprom_update_bootcode(struct pv_eeprom_image *img, const void *data, size_t len)
{
	size_t next = 0;

	for (size_t i = 1; i < img->nsections; i++) {
		if (img->sections[i].magic != PV_EEPROM_MAGIC_PAD) {
			next = img->sections[i].offset;
			break;
		}
	}
	if (!img->ab && next < BOOTCODE_RESERVED)
		return pv_fail(PV_ERR_UNSUPPORTED, "eeprom",
			       "'%s': cannot update the bootcode: 128K must be reserved for it "
			       "(next section at 0x%zx)", label(img), next);
	if (next == 0)
		return pv_fail(PV_ERR_FORMAT, "eeprom",
			       "'%s': cannot update the bootcode: no section follows it", label(img));
	if (len > next - 8)
		return pv_fail(PV_ERR_NO_SPACE, "eeprom",
			       "'%s': no space for a bootcode of %zu bytes: this image has room "
			       "for %zu bytes", label(img), len, next - 8);
	/* `next` is a section of the parsed stream, so everything from it on stays valid. */
	pv_eeprom_put_be32(img->data + 4, (uint32_t)len);
	if (len)
		memcpy(img->data + 8, data, len);
	fill_to(img, 8 + len, next, false);
	return finish_edit(img);
}

/* Where set_timestamp writes: the read-only updatetime file, else the image tail. */
static int timestamp_slots(const struct pv_eeprom_image *img, size_t *ro, size_t *part)
{
	long idx = pv_eeprom_find_section(img, PV_EEPROM_UPDATETIME, 0, PV_EEPROM_RO_SIZE);
	long idx2;

	if (idx < 0) {
		*ro = img->size - 8;
		*part = 0;
		return PV_OK;
	}
	idx2 = pv_eeprom_find_section(img, PV_EEPROM_UPDATETIME, PV_EEPROM_RO_SIZE,
				      PV_EEPROM_PARTITION_END);
	if (idx2 < 0)
		return pv_fail(PV_ERR_FORMAT, "eeprom",
			       "'%s': failed to find the update time file in the partition",
			       label(img));
	if (img->sections[idx].length < 16 + 8 || img->sections[idx2].length < 16 + 8)
		return pv_fail(PV_ERR_FORMAT, "eeprom",
			       "'%s': update time file shorter than 8 bytes", label(img));
	*ro = img->sections[idx].offset + 8 + 16;
	*part = img->sections[idx2].offset + 8 + 16;
	return PV_OK;
}

int pv_eeprom_set_timestamp(struct pv_eeprom_image *img, uint32_t ts)
{
	size_t ro, part;
	int rc = timestamp_slots(img, &ro, &part);

	if (rc)
		return rc;
	put_le32(img->data + ro, ~ts);
	put_le32(img->data + ro + 4, ts);
	if (part) {
		put_le32(img->data + part, ~ts);
		put_le32(img->data + part + 4, ts);
	}
	return PV_OK;
}

/* Find "KEY" standing on its own (not the tail of a longer name such as
 * "VC_BUILD_ID_VERSION:") and return the text that follows it. Candidates are found with
 * memchr on the key's first byte: an image is mostly erased flash, where that is several
 * times faster than memmem. */
static const unsigned char *find_string(const struct pv_eeprom_image *img, const char *key,
					size_t *avail)
{
	size_t klen = strlen(key), from = 0;

	while (from + klen <= img->size) {
		const unsigned char *hit = memchr(img->data + from, key[0],
						  img->size - from - klen + 1);
		size_t at;
		if (!hit)
			return NULL;
		at = (size_t)(hit - img->data);
		if (memcmp(hit, key, klen) == 0 &&
		    (at == 0 || !(pv_eeprom_conf_key_char((char)img->data[at - 1])))) {
			*avail = img->size - at - klen;
			return hit + klen;
		}
		from = at + 1;
	}
	return NULL;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

int pv_eeprom_get_info(const struct pv_eeprom_image *img, struct pv_eeprom_info *out)
{
	struct pv_eeprom_info info;
	const unsigned char *p, *content;
	size_t avail, n, ro, part, clen;
	long idx;

	memset(&info, 0, sizeof(info));
	info.soc = img->soc;
	info.size = img->size;
	info.ab = img->ab;
	info.nsections = img->nsections;
	info.mfg_version = -1;
	for (size_t i = 0; i < img->nsections; i++)
		if (img->sections[i].magic == PV_EEPROM_MAGIC_FILE)
			info.nfiles++;
	p = find_string(img, "BUILD_TIMESTAMP=", &avail);
	for (n = 0; p && n < avail && n < 20 && p[n] >= '0' && p[n] <= '9'; n++)
		info.build_timestamp = info.build_timestamp * 10 + (uint64_t)(p[n] - '0');
	p = find_string(img, "VERSION:", &avail);
	for (n = 0; p && n < avail && n < sizeof(info.version) - 1 &&
		    ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f'));
	     n++)
		info.version[n] = (char)p[n];
	p = find_string(img, "MFG_VER:", &avail);
	if (p) {
		n = 0;
		while (n < avail && p[n] == ' ')
			n++;
		if (n < avail && p[n] >= '0' && p[n] <= '9') {
			info.mfg_version = 0;
			for (; n < avail && p[n] >= '0' && p[n] <= '9' && info.mfg_version < 100000;
			     n++)
				info.mfg_version = info.mfg_version * 10 + (p[n] - '0');
		}
	}
	idx = pv_eeprom_find_section(img, PV_EEPROM_BOOTCONF_TXT, 0, SIZE_MAX);
	if (idx >= 0) {
		struct file_slot slot = find_slot(img, PV_EEPROM_BOOTCONF_TXT, PV_EEPROM_RO_SIZE,
						  PV_EEPROM_PARTITION_END);
		info.has_bootconf = true;
		info.bootconf_offset = img->sections[idx].offset;
		info.bootconf_len = img->sections[idx].length - 16;
		if (slot.index >= 0) {
			info.bootconf_capacity = slot_capacity(img, &slot, PV_EEPROM_BOOTCONF_TXT);
			info.bootconf_is_last = slot.is_last;
		}
	}
	if (pv_eeprom_find_section(img, PV_EEPROM_BOOTCONF_SIG, 0, SIZE_MAX) >= 0) {
		pv_eeprom_get_file(img, PV_EEPROM_BOOTCONF_SIG, &content, &clen);
		info.has_bootconf_sig = true;
		info.config_signed = !all_zero(content, clen);
	}
	if (pv_eeprom_find_section(img, PV_EEPROM_PUBKEY_BIN, 0, SIZE_MAX) >= 0) {
		pv_eeprom_get_file(img, PV_EEPROM_PUBKEY_BIN, &content, &clen);
		info.has_pubkey = true;
		info.pubkey_set = !all_zero(content, clen);
	}
	if (timestamp_slots(img, &ro, &part) == PV_OK) {
		uint32_t inv = le32(img->data + ro), ts = le32(img->data + ro + 4);
		if ((uint32_t)~inv == ts && ts != 0xffffffffu) {
			info.has_update_timestamp = true;
			info.update_timestamp = ts;
		}
	} else {
		pv_clear_error();
	}
	*out = info;
	return PV_OK;
}

static int apply_blob(struct pv_eeprom_image *img, const char *name,
		      const struct pv_eeprom_blob *blob)
{
	if (!blob)
		return PV_OK;
	if (size_limited(name) && blob->len > PV_EEPROM_MAX_FILE_SIZE)
		return pv_fail(PV_ERR_TOO_BIG, "eeprom",
			       "'%s': too large for %s (%zu bytes); the maximum size is %u bytes",
			       blob->source ? blob->source : name, name, blob->len,
			       PV_EEPROM_MAX_FILE_SIZE);
	if (strcmp(name, PV_EEPROM_BOOTCONF_TXT) == 0) {
		int rc = refuse_nul_config(blob->source ? blob->source : name, blob->data,
					   blob->len);
		if (rc)
			return rc;
	}
	return pv_eeprom_update_file(img, name, blob->data, blob->len);
}

static int apply_all(struct pv_eeprom_image *img, const struct pv_eeprom_edits *edits)
{
	unsigned char pubkey[PV_EEPROM_PUBKEY_LEN];
	int rc = PV_OK;

	if (edits->set_timestamp)
		rc = pv_eeprom_set_timestamp(img, edits->timestamp);
	if (rc == 0 && edits->bootcode)
		rc = pv_eeprom_update_bootcode(img, edits->bootcode->data, edits->bootcode->len);
	if (rc == 0)
		rc = apply_blob(img, PV_EEPROM_BOOTSYS, edits->bootsys);
	if (rc == 0)
		rc = apply_blob(img, PV_EEPROM_CACERT_DER, edits->cacert);
	if (rc == 0)
		rc = apply_blob(img, PV_EEPROM_BOOTCONF_TXT, edits->config);
	if (rc == 0)
		rc = apply_blob(img, PV_EEPROM_BOOTCONF_SIG, edits->digest);
	if (rc == 0 && edits->pubkey_pem) {
		rc = pv_eeprom_pubkey_from_pem(edits->pubkey_pem->data, edits->pubkey_pem->len,
					       edits->pubkey_pem->source, pubkey);
		if (rc == 0)
			rc = pv_eeprom_update_file(img, PV_EEPROM_PUBKEY_BIN, pubkey,
						   sizeof(pubkey));
	}
	return rc;
}

int pv_eeprom_apply_edits(struct pv_eeprom_image *img, const struct pv_eeprom_edits *edits)
{
	struct pv_eeprom_image work = { 0 };
	int nedits = edits->set_timestamp + !!edits->bootcode + !!edits->bootsys +
		     !!edits->cacert + !!edits->config + !!edits->digest + !!edits->pubkey_pem;
	int rc;

	/* Each edit alone is all-or-nothing; several need a scratch copy to stay so. */
	if (nedits <= 1)
		return apply_all(img, edits);
	rc = pv_eeprom_parse(&work, img->data, img->size, img->name);
	if (rc)
		return rc;
	rc = apply_all(&work, edits);
	if (rc) {
		pv_eeprom_release(&work);
		return rc;
	}
	free(work.name);
	work.name = img->name;
	img->name = NULL;
	pv_eeprom_release(img);
	*img = work;
	return PV_OK;
}
