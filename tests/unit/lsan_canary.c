// SPDX-License-Identifier: GPL-2.0
/*
 * Leak canary: leaks on purpose. The test runner expects LeakSanitizer to
 * fail this program; if it exits 0, leak detection is not working and every
 * "no leaks" result from the other programs would be meaningless.
 */
#include <stdio.h>
#include <stdlib.h>

static void *volatile sink;

int main(void)
{
	sink = malloc(64);
	sink = NULL;
	puts("# lsan canary: leaked 64 bytes on purpose");
	return 0;
}
