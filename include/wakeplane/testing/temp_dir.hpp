// A fresh temporary directory for a test or benchmark, removed with its contents afterwards.
#pragma once

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace wakeplane::testing {

/// A directory made for one test with mkdtemp (so parallel test programs never share one) and
/// removed with everything in it when the object goes. Stores opened in it must be closed first.
class temp_dir {
public:
    explicit temp_dir(std::string_view stem = "wakeplane-test") {
        std::string pattern = (std::filesystem::temp_directory_path() / (std::string(stem) + "-XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("cannot create a temporary directory from " + pattern);
        }
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;  // a leftover directory must not fail the test that made it
        std::filesystem::remove_all(path_, ignored);
    }

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace wakeplane::testing
