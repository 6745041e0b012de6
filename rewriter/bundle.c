/*
 * bundle.c - `zprewrite --bundle DIR PROGRAM`: a dynamically linked program
 * with its loader and every library it needs, all rewritten, in one directory.
 *
 *   DIR/PROGRAM          the program; PT_INTERP -> DIR/lib/<its loader>,
 *                        DT_RPATH (or RUNPATH) starts with $ORIGIN/lib
 *   DIR/lib/ld-linux-x86-64.so.2, DIR/lib/libc.so.6, ...
 *                        each under the name the program asks for (a
 *                        symlink's target is copied under the link's name)
 *
 * The rewritten loader installs the trampoline at its own entry point, before
 * anything else of the process runs: from then on every patched object is
 * hooked, from the loader's first system call (see docs/bundles.md).
 * Dependencies are resolved the way the loader would on this machine: the
 * object's RPATH/RUNPATH (with $ORIGIN), the directories of /etc/ld.so.conf,
 * then the default ones, skipping files that are not x86-64 ELF.  The bundle
 * is built in a temporary directory next to DIR and renamed into place.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "dynamic.h"
#include "elffile.h"
#include "warn.h"

struct object {
	char *path;          /* resolved file */
	char *name;          /* name in the bundle */
	int is_interp;
};

struct bundle {
	const char *program;
	struct object *obj;
	size_t n, cap;
	char **dirs;         /* ld.so.conf and default directories */
	size_t ndirs, dircap;
	char *interp_path;   /* the loader the program names */
};

/* snprintf for paths: a path too long for PATH_MAX is an error, not a
 * silently cut name. */
static void pathf(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= n) {
		fprintf(stderr, "zprewrite: %.60s...: path too long\n", dst);
		exit(1);
	}
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d) {
		fprintf(stderr, "zprewrite: out of memory\n");
		exit(1);
	}
	return d;
}

static void add_dir(struct bundle *b, const char *d)
{
	for (size_t i = 0; i < b->ndirs; i++)
		if (!strcmp(b->dirs[i], d))
			return;
	if (b->ndirs == b->dircap) {
		b->dircap = b->dircap ? b->dircap * 2 : 32;
		b->dirs = realloc(b->dirs, b->dircap * sizeof *b->dirs);
		if (!b->dirs)
			exit(1);
	}
	b->dirs[b->ndirs++] = xstrdup(d);
}

/* /etc/ld.so.conf and its includes, as ldconfig reads them. */
static void read_ld_so_conf(struct bundle *b, const char *path, int depth)
{
	FILE *f = depth < 8 ? fopen(path, "re") : NULL;
	char line[PATH_MAX];

	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *p = line, *end;
		while (*p == ' ' || *p == '\t')
			p++;
		if ((end = strpbrk(p, "#\n")))
			*end = 0;
		for (end = p + strlen(p); end > p && (end[-1] == ' ' || end[-1] == '\t'); )
			*--end = 0;
		if (!*p)
			continue;
		if (!strncmp(p, "include", 7) && (p[7] == ' ' || p[7] == '\t')) {
			p += 8;
			while (*p == ' ' || *p == '\t')
				p++;
			glob_t g;
			if (glob(p, 0, NULL, &g) == 0) {
				for (size_t i = 0; i < g.gl_pathc; i++)
					read_ld_so_conf(b, g.gl_pathv[i], depth + 1);
				globfree(&g);
			}
			continue;
		}
		if (*p == '/')
			add_dir(b, p);
	}
	fclose(f);
}

/* Is this file an x86-64 ELF shared object we can use? */
static int usable(const char *path)
{
	unsigned char h[20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, h, sizeof h);
	close(fd);
	return n == (ssize_t)sizeof h && !memcmp(h, ELFMAG, SELFMAG) && h[EI_CLASS] == ELFCLASS64 &&
	       h[EI_DATA] == ELFDATA2LSB && h[18] == EM_X86_64;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Search "a:b:c" (with $ORIGIN) for name. */
static char *search_path(const char *list, const char *origin, const char *name, const char **bad)
{
	char buf[PATH_MAX], dir[PATH_MAX];
	const char *p = list;

	while (p && *p) {
		size_t len = strcspn(p, ":");
		pathf(dir, sizeof dir, "%.*s", (int)len, p);
		p += len + (p[len] == ':');
		char expanded[PATH_MAX];
		const char *o = strstr(dir, "$ORIGIN");
		if (!o)
			o = strstr(dir, "${ORIGIN}");
		if (o) {
			int skip = dir[o - dir + 1] == '{' ? 9 : 7;
			pathf(expanded, sizeof expanded, "%.*s%s%s", (int)(o - dir), dir, origin, o + skip);
		} else {
			pathf(expanded, sizeof expanded, "%s", dir);
		}
		pathf(buf, sizeof buf, "%s/%s", expanded, name);
		if (exists(buf)) {
			if (usable(buf))
				return xstrdup(buf);
			*bad = xstrdup(buf);
		}
	}
	return NULL;
}

static size_t find_object(const struct bundle *b, const char *path)
{
	char real[PATH_MAX];
	if (!realpath(path, real))
		pathf(real, sizeof real, "%s", path);
	for (size_t i = 0; i < b->n; i++) {
		char other[PATH_MAX];
		if (!realpath(b->obj[i].path, other))
			pathf(other, sizeof other, "%s", b->obj[i].path);
		if (!strcmp(real, other))
			return i;
	}
	return SIZE_MAX;
}

static void add_object(struct bundle *b, const char *path, const char *name, int is_interp)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 32;
		b->obj = realloc(b->obj, b->cap * sizeof *b->obj);
		if (!b->obj)
			exit(1);
	}
	b->obj[b->n++] = (struct object){ xstrdup(path), xstrdup(name), is_interp };
}

struct need_ctx {
	struct bundle *b;
	const char *from;            /* the object needing them */
	const char *rpath, *runpath, *origin;
	const char *exe_rpath;       /* the program's RPATH, inherited when no RUNPATH */
	int error;
};

static void on_needed(const char *name, void *arg)
{
	struct need_ctx *c = arg;
	struct bundle *b = c->b;
	char *path = NULL;
	const char *bad = NULL;

	if (c->error)
		return;
	if (strchr(name, '/')) {
		path = exists(name) ? xstrdup(name) : NULL;
	} else {
		if (!c->runpath && c->rpath)
			path = search_path(c->rpath, c->origin, name, &bad);
		if (!path && !c->runpath && c->exe_rpath)
			path = search_path(c->exe_rpath, c->origin, name, &bad);
		if (!path && c->runpath)
			path = search_path(c->runpath, c->origin, name, &bad);
		for (size_t i = 0; !path && i < b->ndirs; i++)
			path = search_path(b->dirs[i], "", name, &bad);
	}
	if (!path) {
		c->error = 1;
		if (bad)
			zp_error(bad, "needed as %s by %s, but not an x86-64 ELF shared object", name, c->from);
		else
			zp_error(c->from, "needs %s, which is not found (searched its RPATH/RUNPATH, "
				 "/etc/ld.so.conf and the default directories)", name);
		free((char *)bad);
		return;
	}
	free((char *)bad);
	if (find_object(b, path) == SIZE_MAX) {
		const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		add_object(b, path, base, 0);
	}
	free(path);
}

/* Find every object the program needs, transitively. */
static int resolve(struct bundle *b, const struct zp_elf *prog, const char **exe_rpath_out)
{
	static const char *defaults[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					  "/lib64", "/usr/lib64", "/lib", "/usr/lib" };
	read_ld_so_conf(b, "/etc/ld.so.conf", 0);
	for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
		add_dir(b, defaults[i]);
	(void)prog;
	*exe_rpath_out = NULL;
	for (size_t i = 0; i < b->n; i++) {
		struct zp_elf e;
		if (zp_elf_open(b->obj[i].path, &e)) {
			zp_elf_close(&e);
			return -1;
		}
		char origin[PATH_MAX], real[PATH_MAX];
		if (!realpath(b->obj[i].path, real))
			pathf(real, sizeof real, "%s", b->obj[i].path);
		pathf(origin, sizeof origin, "%s", real);
		char *slash = strrchr(origin, '/');
		if (slash)
			*slash = 0;
		struct need_ctx c = { b, b->obj[i].path, NULL, NULL, origin, i ? *exe_rpath_out : NULL, 0 };
		int r = zp_dynamic_needed(&e, on_needed, &c, &c.rpath, &c.runpath);
		if (i == 0 && c.rpath && !c.runpath)
			*exe_rpath_out = xstrdup(c.rpath);
		zp_elf_close(&e);
		if (r || c.error)
			return -1;
	}
	return 0;
}

static void count_needed(const char *name, void *arg)
{
	(void)name;
	++*(int *)arg;
}

/* Does the library have DT_NEEDED entries (besides the loader)? */
static int needs_libraries(const char *path)
{
	struct zp_elf e;
	const char *rp, *rup;
	int n = 0;

	if (zp_elf_open(path, &e) == 0)
		zp_dynamic_needed(&e, count_needed, &n, &rp, &rup);
	zp_elf_close(&e);
	zp_error_clear();
	return n > 0;
}

/* PROGRAM as the shell would find it. */
static char *find_program(const char *prog)
{
	if (strchr(prog, '/'))
		return xstrdup(prog);
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");
		pathf(buf, sizeof buf, "%.*s/%s", (int)len, p, prog);
		p += len + (p[len] == ':');
		if (access(buf, X_OK) == 0 && exists(buf))
			return xstrdup(buf);
	}
	return xstrdup(prog);   /* let the open fail with a clear message */
}

static int is_script(const char *path)
{
	char h[2];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, h, 2);
	close(fd);
	return n == 2 && h[0] == '#' && h[1] == '!';
}

static int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		if (!d)
			return -1;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char sub[PATH_MAX];
			pathf(sub, sizeof sub, "%s/%s", path, de->d_name);
			remove_tree(sub);
		}
		closedir(d);
		return rmdir(path);
	}
	return unlink(path);
}

/* 0: absent or empty; 1: has entries; -1: not a directory. */
static int dir_state(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return -1;
	DIR *d = opendir(path);
	struct dirent *de;
	int full = 0;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			full = 1;
	if (d)
		closedir(d);
	return full;
}

int zp_bundle(const char *dir, const char *program, const char *const *extra, size_t nextra,
	      const struct zp_options *o, int force)
{
	struct bundle b = { .program = program };
	char *prog = find_program(program);
	char absdir[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX];
	int rc = -1;
	const char *exe_rpath = NULL;

	/* The bundle's final absolute path, for the interpreter entry. */
	char parent[PATH_MAX];
	pathf(parent, sizeof parent, "%s", dir);
	while (strlen(parent) > 1 && parent[strlen(parent) - 1] == '/')
		parent[strlen(parent) - 1] = 0;
	char *slash = strrchr(parent, '/');
	const char *leaf = slash ? slash + 1 : parent;
	char pdir[PATH_MAX];
	pathf(pdir, sizeof pdir, "%.*s", slash ? (int)(slash - parent) : 1, slash ? parent : ".");
	if (!*pdir)
		pathf(pdir, sizeof pdir, "/");
	char realparent[PATH_MAX];
	if (!*leaf || !strcmp(leaf, ".") || !strcmp(leaf, "..")) {
		zp_error(dir, "name the bundle directory itself, not . or ..");
		goto out;
	}
	if (!realpath(pdir, realparent)) {
		zp_error(dir, "cannot create the bundle here: %s", strerror(errno));
		goto out;
	}
	pathf(absdir, sizeof absdir, "%s/%s", strcmp(realparent, "/") ? realparent : "", leaf);
	int state = dir_state(absdir);
	if (state < 0) {
		zp_error(dir, "exists and is not a directory");
		goto out;
	}
	if (state > 0 && !force) {
		zp_error(dir, "directory is not empty (use --force to replace it)");
		goto out;
	}
	if (is_script(prog)) {
		zp_error(prog, "is a script: bundle its interpreter instead (the program named after #!)");
		goto out;
	}

	/* What goes in: the program, its loader, its libraries. */
	struct zp_elf pe;
	if (zp_elf_open(prog, &pe)) {
		zp_elf_close(&pe);
		goto out;
	}
	const char *pbase = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	add_object(&b, prog, pbase, 0);
	for (size_t i = 0; i < pe.phnum; i++)
		if (pe.phdrs[i].p_type == PT_INTERP) {
			const char *s = (const char *)zp_elf_bytes_at(&pe, pe.phdrs[i].p_vaddr, pe.phdrs[i].p_filesz);
			if (s && pe.phdrs[i].p_filesz > 1 && memchr(s, 0, pe.phdrs[i].p_filesz))
				b.interp_path = xstrdup(s);
		}
	zp_elf_close(&pe);
	if (b.interp_path) {
		if (!exists(b.interp_path) || !usable(b.interp_path)) {
			zp_error(prog, "its loader %s is missing or not x86-64", b.interp_path);
			goto out;
		}
		const char *ib = strrchr(b.interp_path, '/') ? strrchr(b.interp_path, '/') + 1 : b.interp_path;
		add_object(&b, b.interp_path, ib, 1);
	}
	for (size_t i = 0; i < nextra; i++) {
		char *p = strchr(extra[i], '/') ? xstrdup(extra[i]) : NULL;
		if (!p) {
			/* a library name: resolve it like a dependency of the program */
			add_dir(&b, "/lib/x86_64-linux-gnu");
			add_dir(&b, "/usr/lib/x86_64-linux-gnu");
			const char *bad = NULL;
			for (size_t k = 0; !p && k < b.ndirs; k++)
				p = search_path(b.dirs[k], "", extra[i], &bad);
		}
		if (!p || !exists(p) || !usable(p)) {
			zp_error(extra[i], "library to add to the bundle not found, or not x86-64 ELF");
			free(p);
			goto out;
		}
		if (find_object(&b, p) == SIZE_MAX) {
			const char *base = strrchr(extra[i], '/') ? strrchr(extra[i], '/') + 1 : extra[i];
			add_object(&b, p, base, 0);
		}
		free(p);
	}
	if (resolve(&b, NULL, &exe_rpath))
		goto out;

	/* Build it next to DIR, then rename. */
	pathf(tmp, sizeof tmp, "%s/.%s.zprewrite-XXXXXX", realparent, leaf);
	if (!mkdtemp(tmp)) {
		zp_error(dir, "cannot create the bundle: %s", strerror(errno));
		goto out;
	}
	pathf(path, sizeof path, "%s/lib", tmp);
	if (mkdir(path, 0755) < 0) {
		zp_error(dir, "cannot create the bundle: %s", strerror(errno));
		goto fail;
	}
	/* Library paths: the bundle's absolute directory too, since the loader
	 * ignores $ORIGIN in secure mode (setuid or file capabilities). */
	char interp[PATH_MAX + 64], exe_search[2 * PATH_MAX], lib_search[2 * PATH_MAX], libdir[PATH_MAX + 8];
	pathf(exe_search, sizeof exe_search, "$ORIGIN/lib:%s/lib", absdir);
	pathf(lib_search, sizeof lib_search, "$ORIGIN:%s/lib", absdir);
	pathf(libdir, sizeof libdir, "%s/lib", absdir);
	for (size_t i = 0; i < b.n; i++) {
		struct zp_options oo = *o;
		const struct object *ob = &b.obj[i];
		oo.needed_dir = libdir;
		if (i == 0) {
			pathf(path, sizeof path, "%s/%s", tmp, ob->name);
			if (b.interp_path) {
				const char *ib = strrchr(b.interp_path, '/') + 1;
				pathf(interp, sizeof interp, "%s/lib/%s", absdir, ib);
				oo.interp = interp;
				oo.search = exe_search;
			}
		} else {
			pathf(path, sizeof path, "%s/lib/%s", tmp, ob->name);
			/* Every library that needs others finds them in the
			 * bundle first, whatever its own path says. */
			if (!ob->is_interp && needs_libraries(ob->path))
				oo.search = lib_search;
		}
		if (zp_rewrite_file(ob->path, path, &oo))
			goto fail;
	}
	if (state >= 0 && force && dir_state(absdir) > 0) {
		char old[PATH_MAX + 32];
		pathf(old, sizeof old, "%s.old-%d", tmp, (int)getpid());
		if (rename(absdir, old) < 0) {
			zp_error(dir, "cannot replace it: %s", strerror(errno));
			goto fail;
		}
		remove_tree(old);
	} else {
		rmdir(absdir);   /* an empty directory may be replaced */
	}
	if (rename(tmp, absdir) < 0) {
		zp_error(dir, "cannot create the bundle: %s", strerror(errno));
		goto fail;
	}
	if (chmod(absdir, 0755) < 0)
		zp_warn(dir, "cannot set the directory's mode: %s", strerror(errno));
	rc = 0;
	goto out;
fail:
	remove_tree(tmp);
out:
	for (size_t i = 0; i < b.n; i++) {
		free(b.obj[i].path);
		free(b.obj[i].name);
	}
	free(b.obj);
	for (size_t i = 0; i < b.ndirs; i++)
		free(b.dirs[i]);
	free(b.dirs);
	free(b.interp_path);
	free((char *)exe_rpath);
	free(prog);
	return rc;
}
