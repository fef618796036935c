// The built-in policy catalog.
#include <wakeplane/policy/set.hpp>

namespace wakeplane {

policy_catalog policy_catalog::defaults() { return catalog_of<misfire::all, overlap::all, retry::all>(); }

}  // namespace wakeplane
