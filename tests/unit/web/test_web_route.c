/* Request routing: every route, the names a URL may carry, and what an attacker can send. */
#include <stdio.h>
#include <string.h>

#include "piprov/web.h"
#include "test_support.h"

static struct pv_web_route route(const char *method, const char *path)
{
	struct pv_web_route r;

	pv_web_route(method, strlen(method), path, strlen(path), &r);
	return r;
}

static void test_every_route(void **state)
{
	struct pv_web_route r;

	(void)state;
	r = route("GET", "/");
	assert_int_equal(r.kind, PV_WEB_ROUTE_ASSET);
	assert_string_equal(r.name, "index.html");
	r = route("HEAD", "/app.js");
	assert_int_equal(r.kind, PV_WEB_ROUTE_ASSET);
	assert_string_equal(r.name, "app.js");
	assert_int_equal(route("GET", "/style.css").kind, PV_WEB_ROUTE_ASSET);
	assert_int_equal(route("GET", "/api/boards").kind, PV_WEB_ROUTE_BOARDS);
	r = route("GET", "/api/boards/10000000abcdef01");
	assert_int_equal(r.kind, PV_WEB_ROUTE_BOARD);
	assert_string_equal(r.name, "10000000abcdef01");
	/* The port path is the serial of a board that reported none. */
	r = route("GET", "/api/boards/100-1.3");
	assert_int_equal(r.kind, PV_WEB_ROUTE_BOARD);
	assert_string_equal(r.name, "100-1.3");
	assert_int_equal(route("GET", "/api/events").kind, PV_WEB_ROUTE_EVENTS);
	assert_int_equal(route("GET", "/api/inventory").kind, PV_WEB_ROUTE_INVENTORY);
	assert_int_equal(route("GET", "/api/exports").kind, PV_WEB_ROUTE_EXPORTS);
	r = route("GET", "/api/exports/dnsmasq");
	assert_int_equal(r.kind, PV_WEB_ROUTE_EXPORT);
	assert_string_equal(r.name, "dnsmasq");
	assert_int_equal(r.status, 200);
}

static void test_actions(void **state)
{
	static const struct {
		const char *word;
		enum pv_web_action action;
	} cases[] = { { "retry", PV_WEB_ACTION_RETRY },
		      { "forget", PV_WEB_ACTION_FORGET },
		      { "pause", PV_WEB_ACTION_PAUSE },
		      { "resume", PV_WEB_ACTION_RESUME } };
	char path[128];
	struct pv_web_route r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "/api/boards/abc123/%s", cases[i].word);
		r = route("POST", path);
		assert_int_equal(r.kind, PV_WEB_ROUTE_ACTION);
		assert_int_equal(r.action, cases[i].action);
		assert_string_equal(r.name, "abc123");
		assert_string_equal(pv_web_action_name(cases[i].action), cases[i].word);
		/* An action changes things: GET is not enough. */
		r = route("GET", path);
		assert_int_equal(r.kind, PV_WEB_ROUTE_ERROR);
		assert_int_equal(r.status, 405);
		assert_string_equal(r.allow, "POST");
	}
	r = route("POST", "/api/boards/abc123/explode");
	assert_int_equal(r.status, 404);
}

static void test_methods(void **state)
{
	struct pv_web_route r;

	(void)state;
	r = route("POST", "/api/boards");
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, HEAD");
	assert_int_equal(route("DELETE", "/api/boards/abc").status, 405);
	assert_int_equal(route("PUT", "/").status, 405);
	assert_int_equal(route("POST", "/api/events").status, 405);
	assert_int_equal(route("OPTIONS", "/api/exports/csv").status, 405);
	/* Methods compare exactly, by length. */
	assert_int_equal(route("GETX", "/").status, 405);
	assert_int_equal(route("get", "/").status, 405);
	assert_int_equal(route("", "/").status, 405);
}

static void test_not_found(void **state)
{
	static const char *const paths[] = {
		"/api", "/api/", "/api/nothing", "/api/boards/", "/api/boards//retry",
		"/api/boards/x/retry/more", "/api/exports/csv/x", "/app.js/", "/index.htm",
		"//api/boards", "/api//boards", "/api/events/x", "/API/boards", "/a/b/c/d/e/f/g",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct pv_web_route r = route("GET", paths[i]);

		if (r.status != 404)
			fail_msg("'%s': status %u, wanted 404", paths[i], r.status);
		assert_int_equal(r.kind, PV_WEB_ROUTE_ERROR);
		assert_non_null(r.message);
	}
}

static void test_hostile_names(void **state)
{
	static const char *const paths[] = {
		"/api/boards/..",      "/api/boards/.",        "/api/boards/.hidden",
		"/api/boards/a b",     "/api/boards/<script>", "/api/boards/a\"b",
		"/api/boards/a%2Fb",   "/api/exports/a;b",     "/api/boards/\xc3\xa9",
		"/api/boards/..%2f..", "/api/boards/x\\y/retry",
	};
	char longname[300];
	struct pv_web_route r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = route(strstr(paths[i], "retry") ? "POST" : "GET", paths[i]);
		if (r.status != 400)
			fail_msg("'%s': status %u, wanted 400", paths[i], r.status);
		assert_string_equal(r.name, "");
	}
	/* A NUL inside the path (percent-decoded %00) is a byte like any other. */
	pv_web_route("GET", 3, "/api/boards/ab\0cd", 17, &r);
	assert_int_equal(r.status, 400);
	pv_web_route("GET", 3, "/\0", 2, &r);
	assert_int_equal(r.status, 404);

	/* The longest name that fits, and one more. */
	memcpy(longname, "/api/boards/", 12);
	memset(longname + 12, 'a', PV_WEB_NAME_MAX - 1);
	longname[12 + PV_WEB_NAME_MAX - 1] = '\0';
	r = route("GET", longname);
	assert_int_equal(r.kind, PV_WEB_ROUTE_BOARD);
	assert_int_equal(strlen(r.name), PV_WEB_NAME_MAX - 1);
	longname[12 + PV_WEB_NAME_MAX - 1] = 'a';
	longname[12 + PV_WEB_NAME_MAX] = '\0';
	assert_int_equal(route("GET", longname).status, 400);
}

static void test_limits(void **state)
{
	char path[PV_WEB_URL_MAX + 2];
	struct pv_web_route r;

	(void)state;
	path[0] = '/';
	memset(path + 1, 'a', sizeof(path) - 1);
	pv_web_route("GET", 3, path, PV_WEB_URL_MAX + 1, &r);
	assert_int_equal(r.status, 414);
	pv_web_route("GET", 3, path, PV_WEB_URL_MAX, &r);
	assert_int_equal(r.status, 404);
	assert_int_equal(route("GET", "").status, 400);
	assert_int_equal(route("GET", "api/boards").status, 400);
	assert_int_equal(route("GET", "*").status, 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route), cmocka_unit_test(test_actions),
		cmocka_unit_test(test_methods),     cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_hostile_names), cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
