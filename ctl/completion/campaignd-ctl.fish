# fish completion for campaignd-ctl: asks `campaignd-ctl __complete words -- WORD... CURRENT`
# (ctl/complete_command.cpp) and offers what it prints, with descriptions; ":files" means file
# names. Installed as /usr/share/fish/vendor_completions.d/campaignd-ctl.fish.
function __campaignd_ctl_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l lines ($words[1] __complete words -- $words[2..-1] "$current" 2>/dev/null)
    if test "$lines[1]" = ":files"
        __fish_complete_path "$current"
        return
    end
    printf '%s\n' $lines
end
complete -c campaignd-ctl -f -a '(__campaignd_ctl_complete)'
