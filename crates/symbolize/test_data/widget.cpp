// A C++ method for plumb-symbolize's demangling test: main -> plumb::Widget::run, blocked in pause().
#include <unistd.h>

namespace plumb {
struct Widget {
    int run(int x);
};

__attribute__((noipa)) int Widget::run(int x) {
    pause();
    return x + 1;
}
}  // namespace plumb

int main(int argc, char **) {
    plumb::Widget widget;
    return widget.run(argc) & 1;
}
