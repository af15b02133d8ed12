# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154 # out, top, here: in-vm.sh's
#
# The corpus plan of bench/traces (sourced by in-vm.sh as TRACE_PLAN,
# inside the recording VM that record-corpus.sh boots): seeded rounds
# over real programs, each run for one segment per round with its own
# recurring phases; a segment is one workload of in-vm.sh, named
# <program>-r<round>, so record-corpus.sh cuts one trace per program and
# round.
#
#   gcc        compiles: the checkout's C files at -O2, a generated
#              straight-line function (1500-3500 statements), a generated
#              C++ file of std::map/vector/sort templates (g++)
#   sqlite     sqlite3 on tmpfs: bulk insert, index, sort with a big cache,
#              group by, drop (the rows and cache by seed)
#   pagecache  cat/dd on the ext4 scratch disk (virtio-blk): cold and warm
#              sequential reads of 4 x 192 MiB files, random 1 MiB reads,
#              writes with fsync, cache drops
#   memphase   bench/traces/memphase: steps, ramps, sawtooths, spikes
#   service    corpus-service.py: an HTTP session store (python3) under a
#              client whose request rate follows a seeded wave with bursts
#   python     python3 batch jobs: build records, sort, json, group by, free
#   perl       perl batch jobs: word counts in a hash, sort, join, regex
#              split (CORPUS_HELDOUT: only in the last round)
#
# Environment (record-corpus.sh passes them): CORPUS_SEED (1), CORPUS_ROUNDS
# (5), CORPUS_SEG_S (seconds per segment, 150), CORPUS_HELDOUT (perl),
# CORPUS_HELDOUT_S (its segment, 240), CORPUS_DISK (the scratch disk's
# device, /dev/vda), CORPUS_PROGRAMS (the programs of every round),
# CORPUS_FIRST_ROUND (1: a later session continues the rounds' numbers
# and seeds; CORPUS_HELDOUT= leaves the held-out program out).
# Each round runs its programs in a seeded order; each segment seeds its
# program with CORPUS_SEED * 1000 + round * 10 + the program's index.

c_seed=${CORPUS_SEED:-1}
c_rounds=${CORPUS_ROUNDS:-5}
c_first=${CORPUS_FIRST_ROUND:-1}
c_seg=${CORPUS_SEG_S:-150}
c_held=${CORPUS_HELDOUT-perl}
c_held_s=${CORPUS_HELDOUT_S:-240}
c_disk=${CORPUS_DISK:-/dev/vda}
read -r -a c_progs <<<"${CORPUS_PROGRAMS:-gcc sqlite pagecache memphase service python}"
c_py=/usr/bin/python3
c_mnt=/tmp/corpus-disk
c_tmp=/tmp/corpus

# The scratch disk: virtio_blk and ext4 from the shared root's modules.
modprobe virtio_blk && modprobe ext4 || return 1
for _ in $(seq 50); do [ -b "$c_disk" ] && break; sleep 0.2; done
mkdir -p "$c_mnt" "$c_tmp"
mount -t ext4 "$c_disk" "$c_mnt" || return 1
ls -l "$c_mnt" > "$out/corpus-disk.txt"

# The plan: for each round the programs in a seeded order, the held-out
# program inserted at a seeded place of the last round.
corpus_plan() {
	local r i j t p=("${c_progs[@]}")
	for ((r = c_first; r < c_first + c_rounds; r++)); do
		RANDOM=$((c_seed * 1000 + r))
		p=("${c_progs[@]}")
		if [ "$r" = $((c_first + c_rounds - 1)) ] && [ -n "$c_held" ]; then
			p+=("$c_held")
		fi
		for ((i = ${#p[@]} - 1; i > 0; i--)); do
			j=$((RANDOM % (i + 1)))
			t=${p[i]} p[i]=${p[j]} p[j]=$t
		done
		for i in "${p[@]}"; do printf '%s-r%d ' "$i" "$r"; done
	done
}
workloads=$(corpus_plan)
echo "seed $c_seed rounds $c_first..$((c_first + c_rounds - 1)) seg $c_seg held-out $c_held ($c_held_s s): $workloads" \
	> "$out/corpus-plan.txt"

# left: seconds until the segment's end ($c_end)
left() { echo $((c_end - SECONDS)); }
# plog WHAT...: a phase in the program's log (CLOCK_REALTIME ns)
plog() { echo "$(date +%s%N) $*" >> "$out/$c_name.log"; }
# run_capped CMD...: CMD, killed at the segment's end
run_capped() {
	local l
	l=$(left)
	[ "$l" -gt 1 ] || return 0
	timeout -k 2 "$l" "$@"
}
# pause N: sleep 1..N seconds, not past the segment's end
pause() {
	local s=$((RANDOM % $1 + 1)) l
	l=$(left)
	[ "$s" -le "$l" ] || s=$l
	if [ "$s" -gt 0 ]; then sleep "$s"; fi
}

run_workload() {
	local prog=${1%-r*} round=${1##*-r} i idx=0 seed
	for i in "${c_progs[@]}" "$c_held"; do
		[ "$i" = "$prog" ] && break
		idx=$((idx + 1))
	done
	c_name=$1
	c_end=$((SECONDS + c_seg))
	[ "$prog" = "$c_held" ] && c_end=$((SECONDS + c_held_s))
	seed=$((c_seed * 1000 + round * 10 + idx))
	RANDOM=$seed
	plog "start seed $seed"
	"c_$prog" "$seed"
	plog end
	# the rest of the segment idle: every segment lasts its full time
	i=$(left)
	if [ "$i" -gt 0 ]; then sleep "$i"; fi
	rm -rf "${c_tmp:?}"/*
}

# shellcheck disable=SC2317 # run by name, "c_$prog" above
c_gcc() {
	local n k
	mkdir -p "$c_tmp/cc"
	while [ "$(left)" -gt 2 ]; do
		case $((RANDOM % 3)) in
		0) plog "project files"
		   for k in "$top"/predictor/*.c "$top"/tools/*.c "$top"/bench/predictor/*.c; do
			run_capped gcc -O2 -I"$top/predictor" -I"$top/tools" \
				-I"$top/include" -c -o "$c_tmp/cc/$(basename "$k").o" "$k" 2>/dev/null
		   done ;;
		1) n=$(( (RANDOM % 5 + 3) * 500 ))
		   plog "big function $n"
		   awk -v n="$n" 'BEGIN { print "int f(int *x) {"; for (i = 0; i < n; i++)
			printf "x[%d] += x[%d] * %d + (x[%d] >> 3);\n", i % 64, (i * 7) % 64, i, (i * 13) % 64;
			print "return x[0]; }" }' > "$c_tmp/cc/big.c"
		   run_capped gcc -O2 -c -o "$c_tmp/cc/big.o" "$c_tmp/cc/big.c" ;;
		2) n=$((RANDOM % 16 + 8))
		   plog "c++ templates $n"
		   awk -v n="$n" 'BEGIN { print "#include <map>\n#include <vector>\n#include <string>\n#include <algorithm>\n#include <sstream>"
			for (i = 0; i < n; i++) {
				printf "template <int N> struct T%d { std::map<std::string, std::vector<long>> m; long f(const std::string &s) { std::ostringstream o; o << s << N; m[o.str()].push_back(N * %d); std::vector<long> v = m[o.str()]; std::sort(v.begin(), v.end()); return v.size() + m.size(); } };\n", i, i
				printf "long g%d(const std::string &s) { T%d<%d> a; T%d<%d> b; return a.f(s) + b.f(s); }\n", i, i, i, i, i + 1 } }' \
			> "$c_tmp/cc/t.cc"
		   run_capped g++ -O2 -c -o "$c_tmp/cc/t.o" "$c_tmp/cc/t.cc" ;;
		esac
		rm -f "$c_tmp"/cc/*
		pause 4
	done
}

# shellcheck disable=SC2317 # run by name, "c_$prog" above
c_sqlite() {
	local n cache
	while [ "$(left)" -gt 5 ]; do
		n=$(( (RANDOM % 6 + 1) * 20000 ))
		cache=$(( (RANDOM % 4 + 1) * 100000 ))
		plog "rows $n cache ${cache}KiB"
		run_capped sqlite3 "$c_tmp/w.db" >/dev/null \
			<<<"$(sqlite_sql "$n" "$cache")"
		pause 4
		rm -f "$c_tmp/w.db"
		pause 5
	done
}

# shellcheck disable=SC2317 # run by name, "c_$prog" above
c_pagecache() {
	local f k n
	while [ "$(left)" -gt 2 ]; do
		f=$c_mnt/f$((RANDOM % 4))
		case $((RANDOM % 5)) in
		0|1) plog "read $f"
		   run_capped cat "$f" > /dev/null ;;
		2) n=$((RANDOM % 3 + 2))
		   plog "reread all x$n"
		   for ((k = 0; k < n; k++)); do run_capped cat "$c_mnt"/f* > /dev/null; done ;;
		3) n=$((RANDOM % 40 + 20))
		   plog "random 1MiB reads of $f x$n"
		   for ((k = 0; k < n; k++)); do
			run_capped dd if="$f" of=/dev/null bs=1M count=1 \
				skip=$((RANDOM % 192)) status=none
		   done ;;
		4) n=$(( (RANDOM % 4 + 1) * 64 ))
		   plog "write ${n}MiB, drop caches"
		   run_capped dd if=/dev/zero of="$c_mnt/w" bs=1M count="$n" \
			conv=fsync status=none
		   rm -f "$c_mnt/w"
		   sync
		   echo 1 > /proc/sys/vm/drop_caches ;;
		esac
		pause 3
	done
}

# shellcheck disable=SC2317 # run by name, "c_$prog" above
c_memphase() {
	local max=$(( (RANDOM % 5 + 8) * 100 ))
	plog "memphase seed $1 max $max MiB"
	"$here/memphase" "$1" "$(left)" "$max" >> "$out/$c_name.log"
}

# shellcheck disable=SC2317 # run by name, "c_$prog" above
c_service() {
	local port=$((8000 + RANDOM % 1000)) spid
	plog "service port $port"
	"$c_py" "$here/corpus-service.py" serve "$port" 2>> "$out/$c_name.log" &
	spid=$!
	sleep 2
	run_capped "$c_py" "$here/corpus-service.py" load "$port" "$1" "$(( $(left) - 2 ))" \
		>> "$out/$c_name.log" 2>&1
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
}

# shellcheck disable=SC2317 # run by name, "c_$prog" above
c_python() {
	local n
	while [ "$(left)" -gt 5 ]; do
		n=$(( (RANDOM % 8 + 1) * 25000 ))
		plog "python records $n"
		run_capped "$c_py" -c '
import json, random, sys, time
n, seed = int(sys.argv[1]), int(sys.argv[2])
random.seed(seed)
for job in range(random.randint(2, 4)):
    recs = [{"id": i, "user": "u%d" % random.randrange(n // 10 + 1),
             "score": random.random(), "tags": ["t%d" % random.randrange(50)
             for _ in range(random.randrange(1, 6))]} for i in range(n)]
    recs.sort(key=lambda r: (r["user"], -r["score"]))
    blob = json.dumps(recs[: n // 2])
    back = json.loads(blob)
    groups = {}
    for r in back:
        groups.setdefault(r["user"], []).append(r["score"])
    print(job, len(recs), len(blob), len(groups), flush=True)
    del recs, blob, back, groups
    time.sleep(random.uniform(0.5, 3))
' "$n" "$RANDOM" >> "$out/$c_name.log"
		pause 4
	done
}

# shellcheck disable=SC2317 # run by name, "c_$prog" above
c_perl() {
	local n
	while [ "$(left)" -gt 5 ]; do
		n=$(( (RANDOM % 8 + 1) * 50000 ))
		plog "perl words $n"
		# shellcheck disable=SC2016 # perl's variables
		run_capped perl -e '
my ($n, $seed) = @ARGV;
srand($seed);
for my $job (1 .. 2 + int(rand(3))) {
	my (%count, @words);
	for (1 .. $n) {
		my $w = join "", map { chr(97 + int(rand(26))) } 1 .. 2 + int(rand(6));
		push @words, $w;
		$count{$w}++;
	}
	my @top = sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count;
	my $text = join " ", @words;
	my @parts = split /\b[aeiou]\w*\b/, $text;
	print "$job ", scalar(@words), " ", scalar(@top), " ", length($text), " ", scalar(@parts), "\n";
	undef %count; undef @words; undef $text; undef @parts;
	select(undef, undef, undef, 0.5 + rand(2.5));
}
' "$n" "$RANDOM" >> "$out/$c_name.log"
		pause 4
	done
}
