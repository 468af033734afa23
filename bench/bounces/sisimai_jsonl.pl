#!/usr/bin/perl
# sisimai_jsonl.pl: what Sisimai (Debian libsisimai-perl) finds in each message of a directory,
# one JSON line per file: {"file": "sub/name.eml", "results": [{"action", "feedbacktype",
# "reason", "recipient", "replycode", "smtpagent", "softbounce", "status", "subject"}]}, the
# input of sisimai_agreement. Files are taken recursively, sorted, every regular file but *.md,
# *.jsonl and *.json. Usage: sisimai_jsonl.pl DIR > sisimai.jsonl
use strict;
use warnings;
use File::Find;
use JSON::PP;
use Sisimai;

my $dir = shift or die "usage: sisimai_jsonl.pl DIR\n";
$dir =~ s{/+\z}{};
my @files;
find({ no_chdir => 1, wanted => sub {
    return unless -f $_;
    return if /\.(?:md|jsonl|json)\z/;
    push @files, $_;
} }, $dir);
my $json = JSON::PP->new->canonical(1);
for my $path (sort @files) {
    (my $rel = $path) =~ s{\A\Q$dir\E/}{};
    my @results;
    my $list = eval { Sisimai->make($path) } || [];
    for my $d (@$list) {
        my $h = $d->damn;
        push @results, { map { $_ => (defined $h->{$_} ? "$h->{$_}" : '') }
                         qw(action feedbacktype reason recipient replycode smtpagent subject) };
        $results[-1]{status} = $h->{deliverystatus} // '';
        $results[-1]{softbounce} = 0 + ($h->{softbounce} // -1);
    }
    print $json->encode({ file => $rel, results => \@results }), "\n";
}
