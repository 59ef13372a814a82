/* Served-file lookup: rpiboot's order, bootfiles.bin members, and the safety rules (nothing
 * outside the served folder is opened: checked with a sentinel file and the opened-path
 * hook). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "piprov/error.h"
#include "piprov/usb_protocol.h"
#include "test_support.h"

struct tree {
	char *root;     /* scratch dir */
	char *served;   /* root/served */
	struct pv_buf opened;
};

static void on_opened(void *user, const char *port_path, const char *path)
{
	struct tree *tree = user;

	pv_buf_appendf(&tree->opened, "%s %s\n", port_path, path);
}

static char *join(const char *a, const char *b)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

static void put(const char *dir, const char *name, const char *text)
{
	char *p = join(dir, name);

	pv_test_write_file(p, text, strlen(text));
	free(p);
}

static void sub(const char *dir, const char *name)
{
	char *p = join(dir, name);

	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static void tar_member(struct pv_buf *tar, const char *name, const char *data)
{
	unsigned char h[512] = { 0 };
	unsigned sum = 0;
	size_t len = strlen(data);

	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 8);
	snprintf((char *)h + 124, 12, "%011o", (unsigned)len);
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	for (size_t i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	pv_buf_append(tar, h, sizeof(h));
	pv_buf_append(tar, data, len);
	while (tar->len % 512)
		pv_buf_putc(tar, 0);
}

static int setup(void **state)
{
	struct tree *tree = calloc(1, sizeof(*tree));
	struct pv_buf tar = PV_BUF_INIT(1 << 20);
	char *p, *q;

	tree->root = pv_test_mkdtemp();
	tree->served = join(tree->root, "served");
	pv_buf_init(&tree->opened, 1 << 16);
	assert_int_equal(mkdir(tree->served, 0755), 0);
	put(tree->root, "sentinel", "SECRET OUTSIDE THE SERVED FOLDER");
	put(tree->served, "config.txt", "root config");
	put(tree->served, "only-root.txt", "root only");
	sub(tree->served, "2711");
	put(tree->served, "2711/config.txt", "chip config");
	sub(tree->served, "1-1.2");
	put(tree->served, "1-1.2/config.txt", "overlay config");
	sub(tree->served, "2712");
	put(tree->served, "2712/mcb.bin", "folder beats archive");
	p = join(tree->served, "link-out");
	assert_int_equal(symlink("../sentinel", p), 0);
	free(p);
	p = join(tree->served, "link-abs");
	q = join(tree->root, "sentinel");
	assert_int_equal(symlink(q, p), 0);
	free(p);
	free(q);
	p = join(tree->served, "link-in");
	assert_int_equal(symlink("only-root.txt", p), 0);
	free(p);
	p = join(tree->served, "dir-link");
	assert_int_equal(symlink("..", p), 0);
	free(p);
	tar_member(&tar, "2712/bootcode5.bin", "archived bootcode5");
	tar_member(&tar, "2712/mcb.bin", "archived mcb");
	tar_member(&tar, "2711/bootmain", "archived 2711 bootmain");
	pv_buf_append(&tar, (const char[1024]){ 0 }, 1024);
	p = join(tree->served, "bootfiles.bin");
	pv_test_write_file(p, tar.data, tar.len);
	free(p);
	pv_buf_release(&tar);
	*state = tree;
	return 0;
}

static int teardown(void **state)
{
	struct tree *tree = *state;

	pv_test_rmtree(tree->root);
	free(tree->root);
	free(tree->served);
	pv_buf_release(&tree->opened);
	free(tree);
	return 0;
}

static char *read_served(struct pv_usb_files *files, const char *chip, const char *port,
			 const char *name)
{
	struct pv_usb_served_file f;
	char *text;
	size_t got = 0;

	if (pv_usb_files_open(files, chip, port, name, &f) != PV_OK)
		return NULL;
	text = calloc(1, (size_t)f.size + 1);
	assert_int_equal(pv_usb_served_file_read(&f, 0, text, (size_t)f.size, &got), PV_OK);
	assert_int_equal(got, f.size);
	pv_usb_served_file_close(&f);
	return text;
}

static void expect_text(struct pv_usb_files *files, const char *chip, const char *port,
			const char *name, const char *want)
{
	char *got = read_served(files, chip, port, name);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_lookup_order(void **state)
{
	struct tree *tree = *state;
	struct pv_usb_files *files;
	struct pv_usb_files_config cfg = { .dir = tree->served, .opened = on_opened,
					   .opened_user = tree };

	assert_int_equal(pv_usb_files_new(&cfg, &files), PV_OK);
	expect_text(files, "2711", "1-1.2", "config.txt", "chip config");
	expect_text(files, "2712", "1-1.2", "config.txt", "root config");
	expect_text(files, "2711", "1-1.2", "only-root.txt", "root only");
	/* Without bootfiles mode the archive is not looked into. */
	expect_text(files, "2712", "1-1.2", "bootcode5.bin", NULL);
	pv_usb_files_free(files);

	cfg.overlay = true;
	assert_int_equal(pv_usb_files_new(&cfg, &files), PV_OK);
	expect_text(files, "2711", "1-1.2", "config.txt", "overlay config");
	expect_text(files, "2711", "1-1.3", "config.txt", "chip config");
	pv_usb_files_free(files);
}

static void test_bootfiles_members(void **state)
{
	struct tree *tree = *state;
	struct pv_usb_files *files;
	struct pv_usb_files_config cfg = { .dir = tree->served, .use_bootfiles = true,
					   .opened = on_opened, .opened_user = tree };

	assert_int_equal(pv_usb_files_new(&cfg, &files), PV_OK);
	expect_text(files, "2712", "1-1", "bootcode5.bin", "archived bootcode5");
	expect_text(files, "2712", "1-1", "BOOTCODE5.BIN", "archived bootcode5");
	/* DIR/<chip>/NAME overrides the member (rpiboot's bootfiles overlay). */
	expect_text(files, "2712", "1-1", "mcb.bin", "folder beats archive");
	expect_text(files, "2711", "1-1", "bootmain", "archived 2711 bootmain");
	expect_text(files, "2711", "1-1", "mcb.bin", NULL);
	assert_non_null(strstr(pv_buf_str(&tree->opened), "bootfiles.bin:2712/bootcode5.bin"));
	pv_usb_files_free(files);
}

static void test_memfiles_first(void **state)
{
	struct tree *tree = *state;
	struct pv_usb_files *files;
	static const char image[] = "in-memory image";
	struct pv_usb_memfile mem[] = { { "config.txt", image, sizeof(image) - 1 } };
	struct pv_usb_files_config cfg = { .dir = tree->served, .memfiles = mem,
					   .memfile_count = 1 };

	assert_int_equal(pv_usb_files_new(&cfg, &files), PV_OK);
	expect_text(files, "2711", "1-1", "config.txt", "in-memory image");
	pv_usb_files_free(files);
	/* Memory only: the folder is never consulted. */
	cfg.dir = NULL;
	assert_int_equal(pv_usb_files_new(&cfg, &files), PV_OK);
	expect_text(files, "2711", "1-1", "config.txt", "in-memory image");
	expect_text(files, "2711", "1-1", "only-root.txt", NULL);
	pv_usb_files_free(files);
}

static void test_nothing_outside_is_opened(void **state)
{
	struct tree *tree = *state;
	struct pv_usb_files *files;
	struct pv_usb_files_config cfg = { .dir = tree->served, .overlay = true,
					   .use_bootfiles = true, .opened = on_opened,
					   .opened_user = tree };
	const char *hostile[] = { "../sentinel", "/etc/passwd", "link-out", "link-abs",
				  "dir-link/sentinel", "2711/../../sentinel", "..", "" };

	assert_int_equal(pv_usb_files_new(&cfg, &files), PV_OK);
	pv_buf_reset(&tree->opened);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		expect_text(files, "2711", "1-1", hostile[i], NULL);
	/* A hostile port path cannot steer the overlay out either. */
	expect_text(files, "2711", "..", "sentinel", NULL);
	expect_text(files, "2711", "/", "etc/passwd", NULL);
	assert_int_equal(tree->opened.len, 0);
	/* A symlink that stays inside is followed. */
	expect_text(files, "2711", "1-1", "link-in", "root only");
	assert_string_equal(pv_buf_str(&tree->opened), "1-1 link-in\n");
	pv_usb_files_free(files);
}

static void test_bad_folder_and_archive(void **state)
{
	struct tree *tree = *state;
	struct pv_usb_files *files = NULL;
	struct pv_usb_files_config cfg = { .dir = "/nonexistent/piprov", .use_bootfiles = true };
	char *p;

	assert_int_equal(pv_usb_files_new(&cfg, &files), PV_ERR_NOT_FOUND);
	assert_null(files);
	/* A corrupt archive is reported with its name, not half-served. */
	p = join(tree->served, "bootfiles.bin");
	pv_test_write_file(p, "2712/x\0\0\0", 9);
	{
		char block[1024];
		memset(block, 'Z', sizeof(block));
		pv_test_write_file(p, block, sizeof(block));
	}
	cfg.dir = tree->served;
	assert_int_equal(pv_usb_files_new(&cfg, &files), PV_ERR_FORMAT);
	assert_non_null(strstr(pv_last_error(), "bootfiles.bin"));
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bootfiles_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memfiles_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_outside_is_opened, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_folder_and_archive, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
