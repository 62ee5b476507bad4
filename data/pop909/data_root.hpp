// Where the POP909 data lives. The data is never copied into the repository; a data root is a
// folder with the layout of /work/shared/data:
//
//   <root>/pop909/POP909/NNN/NNN.mid, <root>/pop909/POP909/index.csv     (music-x-lab/POP909-Dataset)
//   <root>/structure/POP909/NNN/*.txt                                     (Dsqvival/hierarchical-structure-analysis)
//   <root>/stripe-alignment/{startpos,split,chord_db}.csv                 (agarwalmanvi/structurePE)
//
// scripts/get-data.sh DIR builds that layout from the three public repositories.
//
// Search order (the first that holds all three folders wins):
//   1. the explicit path (from --data), if given: it must be a data root, no fall-through;
//   2. the environment variable STRIPES_DATA, if set: likewise;
//   3. ../shared/data relative to the current directory and to each of its ancestors (so both the
//      repository root and build/ find /work/shared/data next to /work/main);
//   4. ../shared/data relative to the running program's folder and to each of its ancestors (so
//      build/stripes finds /work/shared/data from any current directory);
//   5. ../shared/data relative to the repository root, when it is known: `repo_root` if given, else
//      the compile definition STRIPES_SOURCE_DIR if the library was built with it.
// Otherwise stripes::Error lists every place tried and how to get the data.
#pragma once

#include <string>

namespace stripes::data {

// True if `root` has pop909/POP909, structure/POP909 and stripe-alignment/startpos.csv.
bool is_data_root(const std::string& root);

// The data root (an absolute, normalized path). `explicit_root` and `repo_root` may be empty.
std::string resolve_data_root(const std::string& explicit_root = "", const std::string& repo_root = "");

}  // namespace stripes::data
