// The one Catch2 main, built once as a static library and linked into every test program.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
