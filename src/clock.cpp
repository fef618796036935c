// The real clock: the one place the library reads the operating system's time.
#include <wakeplane/clock.hpp>

namespace wakeplane {

time_point system_clock::now() const noexcept {
    return std::chrono::time_point_cast<duration>(std::chrono::system_clock::now());  // wall-clock ok
}

bool system_clock::sleep_until(time_point t, std::stop_token stop) const {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock{m};
    const auto deadline = std::chrono::system_clock::time_point{std::chrono::duration_cast<std::chrono::system_clock::duration>(t.time_since_epoch())};
    cv.wait_until(lock, stop, deadline, [] { return false; });  // wall-clock ok
    return !stop.stop_requested();
}

}  // namespace wakeplane
