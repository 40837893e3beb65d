/* A known call path for plumb-symbolize's tests: main -> plumb_a -> plumb_b -> plumb_c, where
 * plumb_c has plumb_wait inlined and blocks in pause() until killed. Built twice by the tests:
 * -O0 -fno-omit-frame-pointer and -O2 -fomit-frame-pointer, both with -g. noipa keeps each
 * function a real, separately called function (no inlining, cloning or tail calls). */
#include <unistd.h>

volatile int sink;

static inline __attribute__((always_inline)) void plumb_wait(void) {
    sink += 1;
    pause();
    sink += 2;
}

__attribute__((noipa)) int plumb_c(int x) {
    plumb_wait();
    return x * 3 + sink;
}

__attribute__((noipa)) int plumb_b(int x) { return plumb_c(x + 1) * 5 + 1; }

__attribute__((noipa)) int plumb_a(int x) { return plumb_b(x * 2) + 7; }

int main(int argc, char **argv) {
    (void)argv;
    return plumb_a(argc) & 1;
}
