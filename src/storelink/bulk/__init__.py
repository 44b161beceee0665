"""Moving a brand onto storelink and off it again: `storelink import KIND FILE` and
`storelink export KIND FILE` (API-NOTES, "Bulk import"; the README has the formats).

An import streams the CSV once: each row is checked on its own (fields.py) and COPYed into a
temporary staging table; then SQL checks what needs the whole file or the database (duplicate
keys, unknown store or SKU codes, lines of one order that disagree) and, when nothing is wrong,
set-based upserts load it, all in one transaction. Any bad row: nothing is loaded.
"""
