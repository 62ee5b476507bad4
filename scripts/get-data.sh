#!/usr/bin/env bash
# Downloads the data of the melody-harmonization experiments into DIR, with the layout the loaders
# expect (data/pop909/data_root.hpp); the data is never copied into this repository.
#
#   scripts/get-data.sh DIR        then: stripes ... --data DIR   or   export STRIPES_DATA=DIR
#
#   DIR/pop909/            git clone of music-x-lab/POP909-Dataset (MIT): POP909/NNN/NNN.mid, ...,
#                          plus POP909/index.csv converted here from POP909/index.xlsx
#   DIR/structure/         git clone of Dsqvival/hierarchical-structure-analysis (MIT): POP909/NNN/*.txt
#   DIR/stripe-alignment/  from agarwalmanvi/structurePE (BSD-3-Clause), data/pop909/data/:
#                          startpos.csv, split.npz, chord_db.npz, LICENSE, plus split.csv and
#                          chord_db.csv converted here from the .npz files
#
# Needs git and python3 (standard library only). golden_windows.h5 (the StrIPE authors' windows
# of songs 001-012, used by tests/data/test_pop909.cpp) is not part of any of these repositories:
# the golden test skips without it. Re-running the script skips what is already there.
set -euo pipefail

if [[ $# -ne 1 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
  exit 1
fi
dir="$1"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

clone() {  # clone URL TARGET [sparse paths...]
  local url="$1" target="$2"
  shift 2
  if [[ -d "$target/.git" ]]; then
    echo "get-data: $target exists, not cloning again"
    return
  fi
  if [[ $# -eq 0 ]]; then
    git clone --depth 1 "$url" "$target"
  else
    git clone --depth 1 --filter=blob:none --sparse "$url" "$target"
    git -C "$target" sparse-checkout set --no-cone "$@"
  fi
}

clone https://github.com/music-x-lab/POP909-Dataset "$dir/pop909"
clone https://github.com/Dsqvival/hierarchical-structure-analysis "$dir/structure"
# structurePE holds ~19k preprocessed sample files; only four files are needed.
clone https://github.com/agarwalmanvi/structurePE "$dir/.structurePE" \
  /LICENSE /data/pop909/data/startpos.csv /data/pop909/data/split.npz /data/pop909/data/chord_db.npz

mkdir -p "$dir/stripe-alignment"
for file in startpos.csv split.npz chord_db.npz; do
  cp "$dir/.structurePE/data/pop909/data/$file" "$dir/stripe-alignment/$file"
done
cp "$dir/.structurePE/LICENSE" "$dir/stripe-alignment/LICENSE"

# .npz -> .csv and .xlsx -> .csv with the Python standard library only (no numpy, no pandas).
python3 - "$dir" <<'PYTHON'
import ast, csv, struct, sys, zipfile, xml.etree.ElementTree as ET
from pathlib import Path

root = Path(sys.argv[1])

def read_npy(data):
    """A little-endian, C-order int64/float64 array from .npy bytes, as (flat values, shape)."""
    assert data[:6] == b"\x93NUMPY", "not a .npy file"
    major = data[6]
    header_length = struct.unpack("<H" if major == 1 else "<I", data[8:10] if major == 1 else data[8:12])[0]
    offset = 10 if major == 1 else 12
    header = ast.literal_eval(data[offset:offset + header_length].decode("latin1"))
    assert not header["fortran_order"], "Fortran-order arrays are not handled"
    code = {"<i8": "q", "<f8": "d", "<i4": "i", "<f4": "f"}[header["descr"]]
    count = 1
    for extent in header["shape"]:
        count *= extent
    values = struct.unpack_from("<%d%s" % (count, code), data, offset + header_length)
    return values, header["shape"]

alignment = root / "stripe-alignment"
with zipfile.ZipFile(alignment / "split.npz") as archive, open(alignment / "split.csv", "w", newline="") as out:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["song_id", "split"])
    for key, name in (("train_idx", "train"), ("val_idx", "val"), ("test_idx", "test")):
        values, _ = read_npy(archive.read(key + ".npy"))
        for song_id in values:
            writer.writerow([int(song_id), name])

with zipfile.ZipFile(alignment / "chord_db.npz") as archive, open(alignment / "chord_db.csv", "w", newline="") as out:
    values, shape = read_npy(archive.read("chord_db.npy"))
    assert shape[1] == 13, shape
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["chord_id", "root_plus_1"] + ["pc%d" % pc for pc in range(12)])
    for chord_id in range(shape[0]):
        writer.writerow([chord_id] + [int(v) for v in values[chord_id * 13:(chord_id + 1) * 13]])

# index.xlsx: first worksheet, shared strings resolved; song ids keep their three digits.
ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
xlsx = root / "pop909" / "POP909" / "index.xlsx"
with zipfile.ZipFile(xlsx) as archive:
    shared = []
    if "xl/sharedStrings.xml" in archive.namelist():
        for item in ET.fromstring(archive.read("xl/sharedStrings.xml")).findall("m:si", ns):
            shared.append("".join(t.text or "" for t in item.iter("{%s}t" % ns["m"])))
    sheet = ET.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.find("m:sheetData", ns).findall("m:row", ns):
        cells = {}
        for cell in row.findall("m:c", ns):
            column = "".join(ch for ch in cell.get("r") if ch.isalpha())
            index = 0
            for ch in column:
                index = index * 26 + (ord(ch) - ord("A") + 1)
            value = cell.find("m:v", ns)
            inline = cell.find("m:is", ns)
            if cell.get("t") == "s" and value is not None:
                text = shared[int(value.text)]
            elif cell.get("t") == "inlineStr" and inline is not None:
                text = "".join(t.text or "" for t in inline.iter("{%s}t" % ns["m"]))
            else:
                text = value.text if value is not None else ""
                if text.endswith(".0"):
                    text = text[:-2]
            cells[index - 1] = text
        if cells:
            rows.append([cells.get(i, "") for i in range(max(cells) + 1)])
with open(xlsx.with_suffix(".csv"), "w", newline="", encoding="utf-8") as out:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rows[0])
    for row in rows[1:]:
        row[0] = "%03d" % int(row[0])
        writer.writerow(row)
print("get-data: wrote split.csv, chord_db.csv and index.csv")
PYTHON

echo "get-data: done. Use --data $dir or export STRIPES_DATA=$dir"
