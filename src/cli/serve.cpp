// `wakeplane serve`: exec of the daemon binary.
#include "serve.hpp"

#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace wakeplane::cli {
namespace {

constexpr const char* daemon_name = "wakeplaned";

/// argv for execv: the daemon's name, then `args`, then the terminating null.
std::vector<char*> make_argv(const std::vector<std::string>& args, std::string& name) {
    std::vector<char*> argv;
    argv.reserve(args.size() + 2);
    argv.push_back(name.data());
    for (const auto& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));  // execv's signature predates const
    }
    argv.push_back(nullptr);
    return argv;
}

}  // namespace

std::vector<std::filesystem::path> daemon_candidates(const std::filesystem::path& self_dir) {
    return {self_dir / daemon_name, self_dir / "src" / "daemon" / daemon_name};
}

failure exec_daemon(const std::vector<std::string>& args) {
    std::string name = daemon_name;
    auto argv = make_argv(args, name);
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::string looked;
    if (!ec) {
        for (const auto& candidate : daemon_candidates(self.parent_path())) {
            if (::access(candidate.c_str(), X_OK) == 0) {
                ::execv(candidate.c_str(), argv.data());
                return {exit_code::failed, "cannot run " + candidate.string() + ": " + std::strerror(errno)};
            }
            looked += candidate.string() + ", ";
        }
    }
    ::execvp(daemon_name, argv.data());
    return {exit_code::failed, "cannot run wakeplaned: not found in " + looked + "or on PATH (" + std::strerror(errno) + ")"};
}

}  // namespace wakeplane::cli
