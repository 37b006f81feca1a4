#!/usr/bin/env bash
# Captures `labctl tour` and `labctl watch` as an 80×24 terminal shows them, into
# docs/tour-80x24.txt and docs/watch-80x24.txt. Needs tmux, Go and the checkout's
# node_modules (make deps). Starts its own fast local lab and tmux server, and stops both.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
sock="healthchecklab-capture-$$"
up=""
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	if [ -n "$up" ]; then kill -INT "$up" 2>/dev/null || true; wait "$up" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/labctl" ./cmd/labctl
state="$tmp/state.json"
"$tmp/labctl" local up --fast --port 0 --state "$state" >"$tmp/up.log" 2>&1 &
up=$!
for _ in $(seq 120); do grep -q "local lab ready" "$tmp/up.log" && break; sleep 0.5; done
grep -q "local lab ready" "$tmp/up.log" || { cat "$tmp/up.log"; exit 1; }

t() { tmux -L "$sock" "$@"; }
t -f /dev/null new-session -d -s hold -x 80 -y 24
t set-option -g history-limit 50000
t set-option -g status off
t new-session -d -s tour -x 80 -y 24 "TERM=xterm-256color $tmp/labctl tour --state $state; echo '[tour exited '\$?']'; sleep 3600"
t new-session -d -s watch -x 80 -y 24 "TERM=xterm-256color $tmp/labctl watch --interval 250ms --state $state; sleep 3600"

screen() { t capture-pane -p -t "$1"; }
# frame prints one 80×24 screen between rulers, with a caption.
ruler=$(printf '%80s' '' | tr ' ' '=')
frame() {
	printf '%s\n%s\n' "$2" "$ruler"
	screen "$1"
	printf '%s\n\n' "$ruler"
}

tour_shots="$tmp/tour-shots.txt"
watch_shots="$tmp/watch-shots.txt"
: >"$tour_shots"
: >"$watch_shots"
declare -A taken=()
shot() { # shot KEY SESSION FILE CAPTION
	[ -n "${taken[$1]:-}" ] && return
	taken[$1]=1
	frame "$2" "$4" >>"$3"
}

deadline=$((SECONDS + 600))
while [ $SECONDS -lt $deadline ]; do
	tour=$(screen tour)
	watch=$(screen watch)
	if grep -q "run step [0-9]* · q: stop" <<<"$tour"; then
		n=$(grep -o "run step [0-9]*" <<<"$tour" | tail -1 | grep -o "[0-9]*$")
		if [ -z "${taken[enter$n]:-}" ]; then
			case "$n" in
			1) shot "prompt$n" tour "$tour_shots" "The tour waits for Enter (or n) before step $n:" ;;
			3 | 8 | 10) shot "prompt$n" tour "$tour_shots" "The pause before step $n: step $((n - 1))'s checks, then what step $n does:" ;;
			esac
			taken[enter$n]=1
			if [ "$n" = 2 ]; then
				# A key that is not an answer asks again and runs nothing.
				t send-keys -t tour x Enter
				sleep 0.5
				shot unknown tour "$tour_shots" "A key that is not an answer (x, then Enter) asks again; the step does not run:"
			fi
			t send-keys -t tour Enter
		fi
	fi
	if grep -q "Step 7 of 10" <<<"$tour" && grep -q "[12] of 3 failed checks" <<<"$tour"; then
		shot progress7 tour "$tour_shots" "Step 7 while zone c fails its deep checks (the progress line is redrawn in place):"
	fi
	if grep -q "→ errorhandling" <<<"$watch" && grep -q "initial" <<<"$watch"; then
		shot deploy watch "$watch_shots" "During step 3's deploy: the header follows the ServerCode being rolled out."
	fi
	if grep -q "unhealthy" <<<"$watch" && grep -q "noDDB" <<<"$watch" && grep -q "✗✗✗" <<<"$watch"; then
		shot fail7 watch "$watch_shots" "Step 7: zone c unhealthy after three failed deep checks; the load balancer routes around it."
	fi
	if [ "$(grep -c "unhealthy" <<<"$watch")" -ge 3 ] && grep -q "RecommendationServiceEnabled=false" <<<"$watch"; then
		shot open9 watch "$watch_shots" "Step 9: all three unhealthy, the load balancer fails open."
	fi
	grep -q "\[tour exited" <<<"$tour" && break
	sleep 0.2
done
grep -q "\[tour exited 0\]" <<<"$(screen tour)" || { echo "the tour did not pass:"; t capture-pane -p -S - -t tour | tail -40; exit 1; }

{
	echo "labctl tour on a fast local lab, in an 80×24 terminal (tmux; produced by docs/capture-80x24.sh)."
	echo "Screens at a few moments, then the whole run as it scrolled by."
	echo
	cat "$tour_shots"
	echo "The whole run:"
	echo
	t capture-pane -p -S - -E - -t tour | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
} >docs/tour-80x24.txt
{
	echo "labctl watch on a fast local lab during the tour, in an 80×24 terminal (tmux; produced by"
	echo "docs/capture-80x24.sh)."
	echo
	cat "$watch_shots"
} >docs/watch-80x24.txt
echo "wrote docs/tour-80x24.txt and docs/watch-80x24.txt"
