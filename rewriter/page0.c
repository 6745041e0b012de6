/*
 * page0.c - the page-0 policies' names and descriptions (see page0.h).
 */
#include <string.h>

#include "page0.h"

static const struct {
	const char *name, *meaning;
} policies[] = {
	[ZP_PAGE0_AUTO] = { "auto", "page 0 when it can be mapped execute-only, else the trap path" },
	[ZP_PAGE0_FAST] = { "fast", "page 0 whenever it can be mapped, even readable, else the trap path" },
	[ZP_PAGE0_REQUIRE] = { "require", "page 0, or a message and exit status 127" },
	[ZP_PAGE0_NEVER] = { "never", "always the trap path" },
};

int zp_page0_parse(const char *name)
{
	for (int p = 0; p < (int)(sizeof policies / sizeof policies[0]); p++)
		if (!strcmp(name, policies[p].name))
			return p;
	return -1;
}

const char *zp_page0_name(enum zp_page0_policy p)
{
	return policies[p & 3].name;
}

const char *zp_page0_meaning(enum zp_page0_policy p)
{
	return policies[p & 3].meaning;
}

uint32_t zp_page0_flags(enum zp_page0_policy p)
{
	return ((uint32_t)p << ZP_DESC_PAGE0_SHIFT) & ZP_DESC_PAGE0_MASK;
}

enum zp_page0_policy zp_page0_of_flags(uint32_t flags)
{
	return (enum zp_page0_policy)((flags & ZP_DESC_PAGE0_MASK) >> ZP_DESC_PAGE0_SHIFT);
}
