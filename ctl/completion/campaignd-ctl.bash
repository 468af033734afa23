# bash completion for campaignd-ctl: asks `campaignd-ctl __complete words -- WORD... CURRENT`
# (ctl/complete_command.cpp: the program's own command tree and, from a running daemon, campaign
# ids and group names) and offers what it prints; ":files" means file names.
# Installed as /usr/share/bash-completion/completions/campaignd-ctl.
_campaignd_ctl() {
    local cur=${COMP_WORDS[COMP_CWORD]} line
    local -a candidates=()
    COMPREPLY=()
    while IFS= read -r line; do
        candidates+=("${line%%$'\t'*}")
    done < <("${COMP_WORDS[0]}" __complete words -- "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null)
    if [[ ${candidates[0]-} == :files ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    else
        COMPREPLY=("${candidates[@]}")
    fi
}
complete -F _campaignd_ctl campaignd-ctl
