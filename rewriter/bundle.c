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
 * object's RPATH/RUNPATH (with $ORIGIN), the program's RPATH (with the
 * program's $ORIGIN), the directories of /etc/ld.so.conf, then the default
 * ones, skipping files that are not x86-64 ELF.  The bundle
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
	char *real;          /* its real path: one file under two names is bundled once */
	char *name;          /* name in the bundle */
	int is_interp;
	int needs_libs;      /* has DT_NEEDED entries (found by resolve) */
};

struct bundle {
	struct object *obj;  /* [0] the program, then what it needs, in order found */
	size_t n, cap;
	char **dirs;         /* ld.so.conf and default directories */
	size_t ndirs, dircap;
	size_t interp;       /* index of the program's loader in obj, or SIZE_MAX */
	/* The program's DT_RPATH (NULL if it has a RUNPATH, which is not
	 * inherited), searched for every library after the library's own: its
	 * $ORIGIN is the program's directory, whichever library needs. */
	char *exe_rpath, *exe_origin;
};

/* The last component of a path: "libc.so.6" for "/lib/libc.so.6", the
 * whole name if it has no slash. */
static const char *zp_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* snprintf for paths: a path too long for the buffer is an error (recorded
 * with zp_error, -1), not a silently cut name. */
static int pathf(char *dst, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), warn_unused_result));
static int pathf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= n) {
		char shown[64];   /* the start of it: enough to recognise, one line */
		snprintf(shown, sizeof shown, "%.60s...", r < 0 ? "" : dst);
		return zp_error(shown, "path too long");
	}
	return 0;
}

static char *dupstr(const char *s) __attribute__((warn_unused_result));
static char *dupstr(const char *s)
{
	char *d = strdup(s);
	if (!d)
		zp_error(s, "out of memory");
	return d;
}

static int add_dir(struct bundle *b, const char *d) __attribute__((warn_unused_result));
static int add_dir(struct bundle *b, const char *d)
{
	for (size_t i = 0; i < b->ndirs; i++)
		if (!strcmp(b->dirs[i], d))
			return 0;
	if (b->ndirs == b->dircap) {
		size_t cap = b->dircap ? b->dircap * 2 : 32;
		char **dirs = realloc(b->dirs, cap * sizeof *dirs);
		if (!dirs)
			return zp_error(d, "out of memory");
		b->dirs = dirs;
		b->dircap = cap;
	}
	if (!(b->dirs[b->ndirs] = dupstr(d)))
		return -1;
	b->ndirs++;
	return 0;
}

/* /etc/ld.so.conf and its includes, as ldconfig reads them. */
static int read_ld_so_conf(struct bundle *b, const char *path, int depth)
{
	FILE *f = depth < 8 ? fopen(path, "re") : NULL;
	char line[PATH_MAX];
	int rc = 0;

	if (!f)
		return 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
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
				for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
					rc = read_ld_so_conf(b, g.gl_pathv[i], depth + 1);
				globfree(&g);
			}
			continue;
		}
		if (*p == '/')
			rc = add_dir(b, p);
	}
	fclose(f);
	return rc;
}

/* The directories searched after an object's own paths, in the loader's
 * order: those of /etc/ld.so.conf, then the default ones.  Built once,
 * before anything is looked up in it. */
static int search_dirs(struct bundle *b)
{
	static const char *defaults[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					  "/lib64", "/usr/lib64", "/lib", "/usr/lib" };
	if (read_ld_so_conf(b, "/etc/ld.so.conf", 0))
		return -1;
	for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
		if (add_dir(b, defaults[i]))
			return -1;
	return 0;
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

/* Search "a:b:c" ($ORIGIN expanded to origin) for name, unless *found is
 * already set: *found becomes the first usable file; *bad the first file of
 * that name that is not usable (the loader skips it; the error names it if
 * nothing usable is found).  -1 on error. */
static int search_path(const char *list, const char *origin, const char *name, char **found, char **bad)
{
	char buf[PATH_MAX], dir[PATH_MAX], expanded[PATH_MAX];
	const char *p = list;

	while (!*found && p && *p) {
		size_t len = strcspn(p, ":");
		if (pathf(dir, sizeof dir, "%.*s", (int)len, p))
			return -1;
		p += len + (p[len] == ':');
		const char *o = strstr(dir, "$ORIGIN");
		if (!o)
			o = strstr(dir, "${ORIGIN}");
		if (o) {
			int skip = dir[o - dir + 1] == '{' ? 9 : 7;
			if (pathf(expanded, sizeof expanded, "%.*s%s%s", (int)(o - dir), dir, origin, o + skip))
				return -1;
		} else if (pathf(expanded, sizeof expanded, "%s", dir)) {
			return -1;
		}
		if (pathf(buf, sizeof buf, "%s/%s", expanded, name))
			return -1;
		if (!exists(buf))
			continue;
		if (usable(buf)) {
			if (!(*found = dupstr(buf)))
				return -1;
		} else if (!*bad && !(*bad = dupstr(buf))) {
			return -1;
		}
	}
	return 0;
}

/* Where the loader finds the library `name` needed by an object with these
 * paths (its directory is origin): *path, or NULL with *bad the first
 * unusable file of that name, or NULL.  -1 on error (the caller frees both). */
static int find_library(const struct bundle *b, const char *rpath, const char *runpath, const char *origin,
			const char *name, char **path, char **bad)
{
	*path = *bad = NULL;
	if (strchr(name, '/')) {
		if (exists(name) && !(*path = dupstr(name)))
			return -1;
		return 0;
	}
	if (!runpath && rpath && search_path(rpath, origin, name, path, bad))
		return -1;
	if (!runpath && b->exe_rpath && search_path(b->exe_rpath, b->exe_origin, name, path, bad))
		return -1;
	if (runpath && search_path(runpath, origin, name, path, bad))
		return -1;
	for (size_t i = 0; !*path && i < b->ndirs; i++)
		if (search_path(b->dirs[i], "", name, path, bad))
			return -1;
	return 0;
}

/* Add the file to the bundle under name, unless it is there already (under
 * any name); *at: its index.  -1 on error. */
static int add_object(struct bundle *b, const char *path, const char *name, size_t *at)
	__attribute__((warn_unused_result));
static int add_object(struct bundle *b, const char *path, const char *name, size_t *at)
{
	char real[PATH_MAX];
	if (!realpath(path, real) && pathf(real, sizeof real, "%s", path))
		return -1;
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(real, b->obj[i].real)) {
			if (at)
				*at = i;
			return 0;
		}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		struct object *obj = realloc(b->obj, cap * sizeof *obj);
		if (!obj)
			return zp_error(path, "out of memory");
		b->obj = obj;
		b->cap = cap;
	}
	struct object o = { dupstr(path), dupstr(real), dupstr(name), 0, 0 };
	if (!o.path || !o.real || !o.name) {
		free(o.path);
		free(o.real);
		free(o.name);
		return -1;
	}
	if (at)
		*at = b->n;
	b->obj[b->n++] = o;
	return 0;
}

struct need_ctx {
	struct bundle *b;
	size_t from;                 /* index of the object needing them (b->obj moves) */
	const char *rpath, *runpath; /* its paths ... */
	const char *origin;          /* ... and its directory, their $ORIGIN */
	int needed;                  /* how many DT_NEEDED entries it has */
	int error;
};

static void on_needed(const char *name, void *arg)
{
	struct need_ctx *c = arg;
	struct bundle *b = c->b;
	char *path, *bad;

	c->needed++;
	if (c->error)
		return;
	if (find_library(b, c->rpath, c->runpath, c->origin, name, &path, &bad)) {
		c->error = 1;
	} else if (!path) {
		c->error = 1;
		if (bad)
			zp_error(bad, "needed as %s by %s, but not an x86-64 ELF shared object", name,
				 b->obj[c->from].path);
		else
			zp_error(b->obj[c->from].path, "needs %s, which is not found (searched its RPATH/RUNPATH, "
				 "/etc/ld.so.conf and the default directories)", name);
	} else if (add_object(b, path, zp_basename(name), NULL)) {
		c->error = 1;
	}
	free(path);
	free(bad);
}

/* The program's loader (PT_INTERP), into the bundle after the program. */
static int add_interp(struct bundle *b, const struct zp_elf *pe)
{
	const char *s = NULL;
	for (size_t i = 0; i < pe->phnum; i++)
		if (pe->phdrs[i].p_type == PT_INTERP) {
			s = (const char *)zp_elf_bytes_at(pe, pe->phdrs[i].p_vaddr, pe->phdrs[i].p_filesz);
			if (!s || pe->phdrs[i].p_filesz < 2 || !memchr(s, 0, pe->phdrs[i].p_filesz))
				s = NULL;
		}
	if (!s)
		return 0;
	if (!exists(s) || !usable(s))
		return zp_error(pe->path, "its loader %s is missing or not x86-64", s);
	if (add_object(b, s, zp_basename(s), &b->interp))
		return -1;
	if (b->interp == 0)
		return zp_error(pe->path, "names itself as its loader");
	b->obj[b->interp].is_interp = 1;
	return 0;
}

/* The --add-lib libraries: paths as given, names resolved like the
 * program's own dependencies (c: the program's). */
static int add_extras(struct bundle *b, const struct need_ctx *c, const char *const *extra, size_t nextra)
{
	for (size_t i = 0; i < nextra; i++) {
		char *path, *bad;
		int rc = find_library(b, c->rpath, c->runpath, c->origin, extra[i], &path, &bad);
		if (rc == 0 && path && !usable(path))
			rc = zp_error(extra[i], "library to add to the bundle is not an x86-64 ELF shared object");
		else if (rc == 0 && !path && bad)
			rc = zp_error(bad, "library to add to the bundle (%s) is not an x86-64 ELF shared object",
				      extra[i]);
		else if (rc == 0 && !path && strchr(extra[i], '/'))
			rc = zp_error(extra[i], "library to add to the bundle not found");
		else if (rc == 0 && !path)
			rc = zp_error(extra[i], "library to add to the bundle not found (searched the program's "
				      "RPATH/RUNPATH, /etc/ld.so.conf and the default directories)");
		if (rc == 0)
			rc = add_object(b, path, zp_basename(extra[i]), NULL);
		free(path);
		free(bad);
		if (rc)
			return -1;
	}
	return 0;
}

/* Find every object the program (b->obj[0]) needs, transitively: its
 * loader, its libraries, the --add-lib ones and theirs.  Each file is opened
 * once here, and what the bundling needs of it kept in its struct object. */
static int resolve(struct bundle *b, const char *const *extra, size_t nextra)
{
	for (size_t i = 0; i < b->n; i++) {
		struct zp_elf e;
		int rc = -1;
		if (zp_elf_open(b->obj[i].path, &e)) {
			zp_elf_close(&e);
			return -1;
		}
		char origin[PATH_MAX];
		if (pathf(origin, sizeof origin, "%s", b->obj[i].real))
			goto next;
		char *slash = strrchr(origin, '/');
		if (slash)
			*slash = 0;
		if (i == 0 && add_interp(b, &e))
			goto next;
		struct need_ctx c = { b, i, NULL, NULL, origin, 0, 0 };
		if (zp_dynamic_needed(&e, on_needed, &c, &c.rpath, &c.runpath) || c.error)
			goto next;
		b->obj[i].needs_libs = c.needed > 0;
		if (i == 0) {
			if (add_extras(b, &c, extra, nextra))
				goto next;
			/* From now on, for the libraries: the program's RPATH
			 * (not its RUNPATH), $ORIGIN being its directory. */
			if (c.rpath && !c.runpath &&
			    (!(b->exe_rpath = dupstr(c.rpath)) || !(b->exe_origin = dupstr(origin))))
				goto next;
		}
		rc = 0;
	next:
		zp_elf_close(&e);
		if (rc)
			return -1;
	}
	return 0;
}

/* PROGRAM as the shell would find it; NULL if out of memory. */
static char *find_program(const char *prog)
{
	if (strchr(prog, '/'))
		return dupstr(prog);
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");
		/* (an entry too long to hold the program cannot have it) */
		int r = snprintf(buf, sizeof buf, "%.*s/%s", (int)len, p, prog);
		p += len + (p[len] == ':');
		if (r > 0 && (size_t)r < sizeof buf && access(buf, X_OK) == 0 && exists(buf))
			return dupstr(buf);
	}
	return dupstr(prog);   /* let the open fail with a clear message */
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
			/* (a path too long to remove was too long to create) */
			char sub[PATH_MAX];
			int r = snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
			if (r > 0 && (size_t)r < sizeof sub)
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

/* Where the bundle goes. */
struct place {
	char parent[PATH_MAX];       /* DIR without trailing slashes */
	const char *leaf;            /* DIR's last component (into parent) */
	char realparent[PATH_MAX];   /* the real path of DIR's directory */
	char absdir[PATH_MAX];       /* DIR's final absolute path, for the interpreter entry */
};

/* DIR as an absolute path; -1 (with the error) if it cannot be a bundle:
 * . or .., not a directory, not empty without --force. */
static int bundle_place(const char *dir, int force, struct place *pl)
{
	if (pathf(pl->parent, sizeof pl->parent, "%s", dir))
		return -1;
	char *p = pl->parent;
	while (strlen(p) > 1 && p[strlen(p) - 1] == '/')
		p[strlen(p) - 1] = 0;
	char *slash = strrchr(p, '/');
	pl->leaf = zp_basename(p);
	char pdir[PATH_MAX];
	if (pathf(pdir, sizeof pdir, "%.*s", slash ? (int)(slash - p) : 1, slash ? p : "."))
		return -1;
	if (!*pdir)
		strcpy(pdir, "/");
	if (!*pl->leaf || !strcmp(pl->leaf, ".") || !strcmp(pl->leaf, ".."))
		return zp_error(dir, "name the bundle directory itself, not . or ..");
	if (!realpath(pdir, pl->realparent))
		return zp_error(dir, "cannot create the bundle here: %s", strerror(errno));
	if (pathf(pl->absdir, sizeof pl->absdir, "%s/%s", strcmp(pl->realparent, "/") ? pl->realparent : "",
		  pl->leaf))
		return -1;
	int state = dir_state(pl->absdir);
	if (state < 0)
		return zp_error(dir, "exists and is not a directory");
	if (state > 0 && !force)
		return zp_error(dir, "directory is not empty (use --force to replace it)");
	return 0;
}

/* What goes in: the program, its loader, its libraries, the --add-lib
 * ones, all found before anything is written. */
static int bundle_resolve(struct bundle *b, const char *prog, const char *const *extra, size_t nextra)
{
	if (is_script(prog))
		return zp_error(prog, "is a script: bundle its interpreter instead (the program named after #!)");
	if (search_dirs(b) || add_object(b, prog, zp_basename(prog), NULL) || resolve(b, extra, nextra))
		return -1;
	return 0;
}

/* The paths written into the bundle's objects.  Library paths hold the
 * bundle's absolute directory too, since the loader ignores $ORIGIN in
 * secure mode (setuid or file capabilities). */
struct bundle_paths {
	char interp[PATH_MAX + 64];        /* the program's new PT_INTERP */
	char exe_search[2 * PATH_MAX];     /* the program's library path */
	char lib_search[2 * PATH_MAX];     /* a library's */
	char libdir[PATH_MAX + 8];         /* where every DT_NEEDED is */
};

static int bundle_paths(const struct bundle *b, const struct place *pl, struct bundle_paths *bp)
{
	if (pathf(bp->exe_search, sizeof bp->exe_search, "$ORIGIN/lib:%s/lib", pl->absdir) ||
	    pathf(bp->lib_search, sizeof bp->lib_search, "$ORIGIN:%s/lib", pl->absdir) ||
	    pathf(bp->libdir, sizeof bp->libdir, "%s/lib", pl->absdir))
		return -1;
	bp->interp[0] = 0;
	if (b->interp != SIZE_MAX &&
	    pathf(bp->interp, sizeof bp->interp, "%s/lib/%s", pl->absdir, b->obj[b->interp].name))
		return -1;
	return 0;
}

/* Rewrite object i of the bundle into the directory tmp. */
static int bundle_rewrite(const struct bundle *b, size_t i, const struct bundle_paths *bp, const char *tmp,
			  const struct zp_options *o)
{
	const struct object *ob = &b->obj[i];
	struct zp_options oo = *o;
	char path[PATH_MAX];

	oo.needed_dir = bp->libdir;
	if (i == 0) {
		if (pathf(path, sizeof path, "%s/%s", tmp, ob->name))
			return -1;
		if (bp->interp[0]) {
			oo.interp = bp->interp;
			oo.search = bp->exe_search;
		}
	} else {
		if (pathf(path, sizeof path, "%s/lib/%s", tmp, ob->name))
			return -1;
		/* Every library that needs others finds them in the bundle
		 * first, whatever its own path says. */
		if (!ob->is_interp && ob->needs_libs)
			oo.search = bp->lib_search;
	}
	return zp_rewrite_file(ob->path, path, &oo);
}

/* Build the bundle in the new directory tmp (the caller removes it if this
 * fails). */
static int bundle_build(const struct bundle *b, const struct place *pl, const char *dir,
			const struct zp_options *o, const char *tmp)
{
	struct bundle_paths bp;
	char lib[PATH_MAX];

	if (pathf(lib, sizeof lib, "%s/lib", tmp))
		return -1;
	if (mkdir(lib, 0755) < 0)
		return zp_error(dir, "cannot create the bundle: %s", strerror(errno));
	if (bundle_paths(b, pl, &bp))
		return -1;
	for (size_t i = 0; i < b->n; i++)
		if (bundle_rewrite(b, i, &bp, tmp, o))
			return -1;
	return 0;
}

/* Put the bundle built in tmp in DIR's place. */
static int bundle_replace(const char *dir, const char *tmp, const char *absdir, int force)
{
	/* (a DIR that was not empty, checked again: it may have been
	 * emptied, or filled, meanwhile) */
	if (force && dir_state(absdir) > 0) {
		char old[PATH_MAX + 32];
		if (pathf(old, sizeof old, "%s.old-%d", tmp, (int)getpid()))
			return -1;
		if (rename(absdir, old) < 0)
			return zp_error(dir, "cannot replace it: %s", strerror(errno));
		remove_tree(old);
	} else {
		rmdir(absdir);   /* an empty directory may be replaced */
	}
	if (rename(tmp, absdir) < 0)
		return zp_error(dir, "cannot create the bundle: %s", strerror(errno));
	if (chmod(absdir, 0755) < 0)
		zp_warn(dir, "cannot set the directory's mode: %s", strerror(errno));
	return 0;
}

static void bundle_free(struct bundle *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->obj[i].path);
		free(b->obj[i].real);
		free(b->obj[i].name);
	}
	free(b->obj);
	for (size_t i = 0; i < b->ndirs; i++)
		free(b->dirs[i]);
	free(b->dirs);
	free(b->exe_rpath);
	free(b->exe_origin);
}

int zp_bundle(const char *dir, const char *program, const char *const *extra, size_t nextra,
	      const struct zp_options *o, int force)
{
	struct bundle b = { .interp = SIZE_MAX };
	struct place pl;
	char tmp[PATH_MAX];
	char *prog = find_program(program);
	int rc = -1;

	/* Built next to DIR, then renamed into place. */
	if (!prog || bundle_place(dir, force, &pl) || bundle_resolve(&b, prog, extra, nextra) ||
	    pathf(tmp, sizeof tmp, "%s/.%s.zprewrite-XXXXXX", pl.realparent, pl.leaf))
		goto out;
	if (!mkdtemp(tmp)) {
		zp_error(dir, "cannot create the bundle: %s", strerror(errno));
		goto out;
	}
	rc = bundle_build(&b, &pl, dir, o, tmp) || bundle_replace(dir, tmp, pl.absdir, force) ? -1 : 0;
	if (rc)
		remove_tree(tmp);
out:
	bundle_free(&b);
	free(prog);
	return rc;
}
