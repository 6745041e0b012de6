/*
 * util.c - strings and formatted output for a runtime without libc.
 *
 * The runtime needs a printf for its own messages, and hooks need one to
 * write traces and summaries (hook.h documents the subset).  Written by hand
 * because the runtime must be freestanding: no libc can be linked into a
 * blob that runs before the program's libc exists and inside its locks.
 * No floating point (the runtime is built with -mgeneral-regs-only).
 * Also the runtime's one way out when it cannot go on (zp_fatal_exit).
 */
#include <stdarg.h>
#include <asm/errno.h>
#include <asm/unistd.h>

#include "runtime.h"
#include "sys.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *zp_memcpy(void *dst, const void *src, size_t n) { return memcpy(dst, src, n); }
void *zp_memset(void *dst, int c, size_t n) { return memset(dst, c, n); }
int zp_memcmp(const void *a, const void *b, size_t n) { return memcmp(a, b, n); }

size_t zp_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int zp_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int zp_strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *zp_strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return 0;
	}
}

long zp_strtol(const char *s, const char **end, int base)
{
	unsigned long v = 0;
	int neg = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = s[0] == '0' ? 8 : 10;
	}
	for (;; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'z')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'Z')
			d = *s - 'A' + 10;
		else
			break;
		if (d >= base)
			break;
		v = v * (unsigned long)base + (unsigned long)d;
	}
	if (end)
		*end = s;
	return neg ? -(long)v : (long)v;
}

/* ---- formatting ----------------------------------------------------------- */

/* Output goes into buf; with fd >= 0, a full buffer is written out and
 * reused (zp_dprintf), otherwise what does not fit is only counted. */
struct out {
	char *buf;
	size_t size, len;   /* len counts everything, also what did not fit */
	size_t flushed;     /* bytes already written to fd */
	int fd;
};

long zp_write_all(int fd, const void *buf, size_t len);

static void put(struct out *o, char c)
{
	if (o->fd >= 0 && o->len - o->flushed == o->size) {
		zp_write_all(o->fd, o->buf, o->size);
		o->flushed = o->len;
	}
	if (o->len - o->flushed + (o->fd < 0) < o->size)
		o->buf[o->len - o->flushed] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

struct spec {
	int left, zero, alt, space, plus;
	int width, prec;     /* -1: not given */
};

static void put_str(struct out *o, const struct spec *sp, const char *s)
{
	if (!s)
		s = "(null)";
	int n = 0;
	while (s[n] && (sp->prec < 0 || n < sp->prec))
		n++;
	if (!sp->left)
		pad(o, ' ', sp->width - n);
	for (int i = 0; i < n; i++)
		put(o, s[i]);
	if (sp->left)
		pad(o, ' ', sp->width - n);
}

static void put_num(struct out *o, const struct spec *sp, unsigned long long v,
		    int neg, unsigned base, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	if (!(v == 0 && sp->prec == 0))
		do {
			tmp[n++] = digits[v % base];
			v /= base;
		} while (v);
	const char *prefix = "";
	if (neg)
		prefix = "-";
	else if (sp->plus)
		prefix = "+";
	else if (sp->space)
		prefix = " ";
	if (sp->alt && base == 16 && n && !(n == 1 && tmp[0] == '0'))
		prefix = upper ? "0X" : "0x";
	if (sp->alt && base == 8 && (n == 0 || tmp[n - 1] != '0'))
		tmp[n++] = '0';
	int plen = (int)zp_strlen(prefix);
	int zeros = sp->prec > n ? sp->prec - n : 0;
	int total = plen + zeros + n;
	if (sp->zero && !sp->left && sp->prec < 0 && sp->width > total) {
		zeros += sp->width - total;
		total = sp->width;
	}
	if (!sp->left)
		pad(o, ' ', sp->width - total);
	for (int i = 0; i < plen; i++)
		put(o, prefix[i]);
	pad(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, ' ', sp->width - total);
}

static void format(struct out *o, const char *fmt, va_list ap);

int zp_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0, 0, -1 };

	format(&o, fmt, ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

/* The flags, width, precision and length of the conversion at *fmt (just
 * after its '%'); *fmt is left at the conversion character.  The
 * arguments of '*' are taken from ap. */
static void parse_spec(const char **fmtp, struct spec *sp, int *lng, va_list *ap)
{
	const char *fmt = *fmtp;

	for (;; fmt++) {
		if (*fmt == '-') sp->left = 1;
		else if (*fmt == '0') sp->zero = 1;
		else if (*fmt == '#') sp->alt = 1;
		else if (*fmt == ' ') sp->space = 1;
		else if (*fmt == '+') sp->plus = 1;
		else break;
	}
	if (*fmt == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->left = 1;
			sp->width = -sp->width;
		}
		fmt++;
	} else {
		while (*fmt >= '0' && *fmt <= '9')
			sp->width = sp->width * 10 + (*fmt++ - '0');
	}
	if (*fmt == '.') {
		fmt++;
		sp->prec = 0;
		if (*fmt == '*') {
			sp->prec = va_arg(*ap, int);
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				sp->prec = sp->prec * 10 + (*fmt++ - '0');
		}
	}
	*lng = 0;    /* 0 int, 1 long, 2 long long, -1 short, -2 char */
	for (;; fmt++) {
		if (*fmt == 'l') (*lng)++;
		else if (*fmt == 'z') *lng = 1;
		else if (*fmt == 'h') (*lng)--;
		else break;
	}
	*fmtp = fmt;
}

static void put_char(struct out *o, struct spec *sp, char ch)
{
	char c[2] = { ch, 0 };

	sp->prec = -1;
	if (!c[0]) {    /* a NUL character still counts */
		if (!sp->left) pad(o, ' ', sp->width - 1);
		put(o, 0);
		if (sp->left) pad(o, ' ', sp->width - 1);
	} else {
		put_str(o, sp, c);
	}
}

/* One conversion c, its argument from ap. */
static void convert(struct out *o, struct spec *sp, int lng, char c, va_list *ap)
{
	unsigned long long u;
	long long s;

	switch (c) {
	case 'd':
	case 'i':
		s = lng >= 2 ? va_arg(*ap, long long) : lng == 1 ? va_arg(*ap, long) : va_arg(*ap, int);
		if (lng == -1) s = (short)s;
		if (lng <= -2) s = (signed char)s;
		u = s < 0 ? -(unsigned long long)s : (unsigned long long)s;
		put_num(o, sp, u, s < 0, 10, 0);
		break;
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		u = lng >= 2 ? va_arg(*ap, unsigned long long) :
		    lng == 1 ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
		if (lng == -1) u = (unsigned short)u;
		if (lng <= -2) u = (unsigned char)u;
		sp->plus = sp->space = 0;   /* signs are for signed conversions only */
		put_num(o, sp, u, 0, c == 'u' ? 10 : c == 'o' ? 8 : 16, c == 'X');
		break;
	case 'p':
		sp->alt = 1;
		put_num(o, sp, (uintptr_t)va_arg(*ap, void *), 0, 16, 0);
		break;
	case 'c':
		put_char(o, sp, (char)va_arg(*ap, int));
		break;
	case 's':
		put_str(o, sp, va_arg(*ap, const char *));
		break;
	case '%':
		put(o, '%');
		break;
	default:        /* unknown conversion: print it as it stands */
		put(o, '%');
		put(o, c);
		break;
	}
}

static void format(struct out *o, const char *fmt, va_list ap)
{
	va_list aq;

	va_copy(aq, ap);   /* (a va_list is passed on by address: va_copy makes one) */
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(o, *fmt);
			continue;
		}
		struct spec sp = { 0, 0, 0, 0, 0, 0, -1 };
		int lng;
		fmt++;
		parse_spec(&fmt, &sp, &lng, &aq);
		if (!*fmt) {
			fmt--;  /* a lone % at the end */
			continue;
		}
		convert(o, &sp, lng, *fmt, &aq);
	}
	va_end(aq);
}

int zp_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = zp_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

long zp_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		long r = zp_sys3(__NR_write, fd, (long)(p + done), (long)(len - done));
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		if (r == 0)
			return -EIO;
		done += (size_t)r;
	}
	return (long)done;
}

/* Output up to this size is written with a single write(2), so that lines
 * from several threads do not mix; it is also the stack this costs. */
#define ZP_DPRINTF_BUF 512

int zp_dprintf(int fd, const char *fmt, ...)
{
	char buf[ZP_DPRINTF_BUF];
	struct out o = { buf, sizeof buf, 0, 0, fd };
	va_list ap;

	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	long r = zp_write_all(fd, buf, o.len - o.flushed);
	return r < 0 ? (int)r : (int)o.len;
}

/* One line on stderr: "zprewrite: PROGRAM: message". */
void zp_msg(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n = zp_snprintf(buf, sizeof buf, "zprewrite: %s: ", zp_progname);

	if (n >= (int)sizeof buf)
		n = (int)sizeof buf - 1;
	va_start(ap, fmt);
	int m = zp_vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof buf - 2)
		len = sizeof buf - 2;
	buf[len++] = '\n';
	zp_write_all(2, buf, len);
}

/* The end of the process when the runtime cannot go on (after zp_msg). */
void zp_fatal_exit(int status)
{
	for (;;)
		zp_sys1(__NR_exit_group, status);
}
