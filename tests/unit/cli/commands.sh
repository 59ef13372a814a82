# The rows of the convention test (conventions.sh): one per command of piprov and
# piprov-node, as `help --commands` lists them. A command without a row fails the test, so a
# new command adds its row here (see docs/HACKING.md, "Command-line conventions"):
#
#   row PROGRAM "COMMAND WORDS" "OK ARGS" "FAIL ARGS" [TRAIT...]
#
# OK ARGS: arguments (after the command words) of a run that exits 0; FAIL ARGS: of a run
# that exits 1 (the operation failed). Both run in the test's folder, which holds the files
# conventions.sh makes: inv.cfg (an inventory with board 10000000f8b73778, restored before
# every run), img.bin and img2.bin (Pi 4 EEPROM images, the second with BOOT_UART=1),
# img.sig (img.bin's .sig), conf.txt (a good config), bad.conf (a config with an error),
# log.txt (a bootloader UART log), bd/ (a boot folder with a Pi 4 second stage), tftp/ (an
# empty folder, emptied before every run), roots/pi4b, roots/pi3b,
# roots/pi3bplus (copies of the fixture sysroots). Words are split on blanks.
# "-" instead of args: no such run, and a trait says why (nook=WHY, nofail=WHY).
# TRAITS:
#   inventory   reads or records the inventory: the test adds --inventory inv.cfg before the
#               command, after the args, or sets $PIPROV_INVENTORY=inv.cfg; all three must
#               give the same result, and without either the result must differ
#   writes      (with inventory) the run changes inv.cfg
#   root=BOARD  (piprov-node) the board is roots/BOARD: --root before, after, $PIPROV_ROOT
#   volatile    stdout differs from run to run (times): only exit statuses and JSON
#               validity are compared
#   json=ARGS   the --json run uses ARGS (words joined by ',') instead of OK ARGS
#   nook=WHY, nofail=WHY   no run that exits 0 / 1 here, and why
# The flags come from the commands' own tables (help --commands): "json" (--json gives one
# JSON document or JSON lines; without the flag --json is a usage error) and "waits"
# (waits for boards: a usage error must come before any waiting).

row piprov "eeprom info" "img.bin" "nope.bin"
row piprov "eeprom config" "img.bin" "nope.bin"
row piprov "eeprom set" "img.bin -o out.bin BOOT_UART=1" "img.bin -o out.bin BOOT_ORDER=0xf96"
row piprov "eeprom apply" "img.bin conf.txt -o out.bin" "img.bin bad.conf -o out.bin"
row piprov "eeprom check" "conf.txt --soc 2711" "bad.conf --soc 2711"
row piprov "eeprom diff" "img.bin img.bin" "img.bin nope.bin"
row piprov "eeprom digest" "img.bin -o out.sig" "nope.bin -o out.sig"
row piprov "eeprom verify" "img.bin img.sig" "img2.bin img.sig"
row piprov "eeprom synth" "2711 -o out.bin" "2711 -o nodir/out.bin"
row piprov "eeprom-config" "img.bin" "nope.bin"
row piprov "usb list" "--virtual pi4" "-" "nofail=a virtual bus cannot fail a scan"
row piprov "usb boot" "-d bd --virtual pi4 --timeout 5" "-d nodir --virtual pi4 --timeout 5" \
	inventory writes volatile
row piprov "usb flash" "--virtual pi4,serial=100000001234abcd --timeout 5" \
	"--virtual pi3 --timeout 5" inventory writes volatile
row piprov "rpiboot" "-" "-d bd --timeout 1" inventory \
	"nook=serving needs a board (no virtual bus here; tests/e2e boots one in QEMU)"
row piprov "station" "--virtual pi4,serial=100000001234abcd -n 1 --preset network" \
	"--virtual pi4 -n 1 --preset network --inventory nodir/inv.cfg" inventory writes volatile
row piprov "netboot check" "-" "--interface nosuch0 --as pi4 --wait 200" inventory \
	"nook=needs boot servers on the LAN (tests/netboot runs them in network namespaces)"
row piprov "netboot boot" "-" "--virtual pi4 --interface nosuch0 --timeout 1" \
	"nook=needs boot servers on the LAN (tests/netboot runs them in network namespaces)"
row piprov "inventory add" "--serial 10000000aaaabbbb" "--serial 10000000aaaabbbb --mac zz" \
	inventory writes
row piprov "inventory set" "f8b73778 notes=x" "deadbeef notes=x" inventory writes
row piprov "inventory rm" "f8b73778" "deadbeef" inventory writes
row piprov "inventory show" "f8b73778" "deadbeef" inventory
row piprov "inventory list" "" "--inventory=missing.cfg" inventory
row piprov "inventory import" "log.txt" "nope.log" inventory writes
row piprov "inventory export" "ethers" "tftp --tftp-root nodir --nfs-server 10.0.0.1" inventory \
	"json=tftp,--tftp-root,tftp,--nfs-server,10.0.0.1"
row piprov "uart capture" "log.txt --no-log" "nope.log" inventory writes
row piprov "uart parse" "log.txt" "nope.log"
row piprov "uart diagnose" "log.txt" "nope.log"
row piprov "help" "" "-" "nofail=help fails only on usage errors (2)"

row piprov-node "status" "" "-" root=pi4b "nofail=every root here is a readable board"
row piprov-node "netboot" "--dry-run" "--dry-run --root roots/pi4b" root=pi3b
row piprov-node "report" "" "--inventory nodir/inv.cfg" root=pi4b inventory writes
row piprov-node "provision" "--no-poweroff" "--no-poweroff --inventory nodir/inv.cfg" \
	root=pi3bplus inventory writes
