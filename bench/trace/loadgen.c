/* Load generator for bench/trace/run.sh: `loadgen open PATH SECONDS` opens and closes PATH in a
 * tight loop; `loadgen read PATH SECONDS` reads PATH 4 KiB at a time with O_DIRECT (cycling
 * through the file), so each read is one block I/O. Prints the number of calls made and the
 * process's own CPU seconds (user + system, getrusage), which include the in-kernel probes that
 * run in its context: "events cpu_s". */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: loadgen open|read PATH SECONDS\n");
		return 2;
	}
	const char *path = argv[2];
	double end = now() + atof(argv[3]);
	unsigned long long n = 0;
	if (strcmp(argv[1], "open") == 0) {
		while (1) {
			for (int i = 0; i < 1000; i++) {
				int fd = open(path, O_RDONLY);
				if (fd < 0) {
					perror(path);
					return 1;
				}
				close(fd);
			}
			n += 1000;
			if (now() >= end)
				break;
		}
	} else {
		int fd = open(path, O_RDONLY | O_DIRECT);
		if (fd < 0) {
			perror(path);
			return 1;
		}
		off_t size = lseek(fd, 0, SEEK_END) / 4096 * 4096;
		void *buf;
		if (size <= 0 || posix_memalign(&buf, 4096, 4096))
			return 1;
		off_t off = 0;
		while (now() < end) {
			if (pread(fd, buf, 4096, off) != 4096) {
				perror("pread");
				return 1;
			}
			n++;
			off = (off + 4096) % size;
		}
	}
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	printf("%llu %.3f\n", n, u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6);
	return 0;
}
