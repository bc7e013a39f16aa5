#include <csignal>
#include <string>
#include <vector>

#include "w2v/cli.h"

int main(int argc, char** argv) {
  // Past a file size limit (ulimit -f), a write should fail with EFBIG and be reported as any
  // full disk is, not kill the process with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  return w2v::run_cli(std::vector<std::string>(argv + 1, argv + argc));
}
