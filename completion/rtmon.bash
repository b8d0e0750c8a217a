# bash completion for rtmon(8); installed as share/bash-completion/completions/rtmon.
# The commands and each command's options are read from the rtmon being completed, from its --help
# (`rtmon --help`, `rtmon COMMAND --help`), so they are always those of that binary. PIDs follow
# -p/--pid (and `rtmon info`), process names -n/--name, files --binpath, and after `--` a command and
# then its own completion.

# The rtmon being completed: the word typed (a path, or a name looked up in PATH), else
# /usr/local/sbin/rtmon or /usr/sbin/rtmon, since sbin is not in every user's PATH.
_rtmon_bin()
{
	local w=$1
	[[ $w == "~/"* ]] && w=$HOME/${w#"~/"}
	if [[ $w == */* ]]; then
		printf '%s\n' "$w"
	elif command -v "$w" >/dev/null 2>&1; then
		command -v "$w"
	else
		local d
		for d in /usr/local/sbin /usr/sbin; do
			[[ -x $d/rtmon ]] && { printf '%s\n' "$d/rtmon"; return; }
		done
	fi
}

# The command names: the lines of `rtmon --help` under "Commands:".
_rtmon_commands()
{
	"$1" --help 2>/dev/null | awk '/^Commands:/ { c = 1; next } c && /^$/ { exit }
		c && /^  [a-z]/ { print $1 }'
}

# A command's options, short and long, from argp's option lines in `rtmon COMMAND --help`:
# "  -b, --binpath=PATH ..." and "      --json ...".
_rtmon_options()
{
	"$1" "$2" --help 2>/dev/null | awk '
		/^  (-[^-], |    )--[a-z]/ || /^  -[^-] / {
			for (i = 1; i <= NF; i++) {
				w = $i; sub(/[,=].*/, "", w)
				if (w ~ /^-/) print w
				if ($i !~ /,$/) break
			}
		}'
}

_rtmon()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= i bin cmd
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# bash splits --opt=value at '=' (COMP_WORDBREAKS): "--pid" "=" "12"
	if [[ $cur == "=" ]]; then
		cur=
	elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi
	COMPREPLY=()
	bin=$(_rtmon_bin "${COMP_WORDS[0]}")
	[[ -n $bin ]] || return 0

	if ((COMP_CWORD == 1)); then
		_rtmon_reply -W "$(_rtmon_commands "$bin") --help --version" -- "$cur"
		return 0
	fi
	cmd=${COMP_WORDS[1]}

	# After "--": the command to run, then that command's own completion.
	for ((i = 2; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == "--" ]]; then
			if ((COMP_CWORD == i + 1)); then
				_rtmon_reply -c -- "$cur"
			elif declare -F _command_offset >/dev/null; then
				_command_offset $((i + 1))
			else
				compopt -o filenames 2>/dev/null
				_rtmon_reply -f -- "$cur"
			fi
			return 0
		fi
	done

	case $prev in
	-p | --pid)
		_rtmon_reply -W "$(_rtmon_pids)" -- "$cur"
		return 0
		;;
	-n | --name)
		local IFS=$'\n'
		_rtmon_reply -W "$(cat /proc/[0-9]*/comm 2>/dev/null | sort -u)" -- "$cur"
		return 0
		;;
	-b | --binpath)
		compopt -o filenames 2>/dev/null
		_rtmon_reply -f -- "$cur"
		return 0
		;;
	-d | --duration | -i | --interval | --budget | --cycle | --phase)
		return 0 # a number or a symbol: nothing to offer
		;;
	esac

	if [[ $cur == -* ]]; then
		_rtmon_reply -W "$(_rtmon_options "$bin" "$cmd")" -- "$cur"
	elif [[ $cmd == info ]]; then
		_rtmon_reply -W "$(_rtmon_pids)" -- "$cur"
	fi
	return 0
}

# COMPREPLY from compgen, one match a line: no pathname expansion of the matches ("-?").
_rtmon_reply()
{
	mapfile -t COMPREPLY < <(compgen "$@")
}

_rtmon_pids()
{
	local p
	for p in /proc/[0-9]*; do
		printf '%s\n' "${p#/proc/}"
	done
}

complete -F _rtmon rtmon
