// alignment_test.cpp: relaxed DMARC alignment as receivers judge it (the Public Suffix List
// through libpsl), and the warnings an administrator hears about a campaign.
#include <gtest/gtest.h>

#include "mail/alignment.h"

namespace campaignd::mail {
namespace {

TEST(Alignment, OrganisationalDomainsComeFromThePublicSuffixList) {
    EXPECT_EQ(organisationalDomain("bounces.news.example.org"), "example.org");
    EXPECT_EQ(organisationalDomain("News.Example.CO.UK"), "example.co.uk");
    EXPECT_EQ(organisationalDomain("example.co.uk"), "example.co.uk");
    // Not in the list: the default rule, the last two labels.
    EXPECT_EQ(organisationalDomain("bounces.campaignd.test"), "campaignd.test");
}

TEST(Alignment, RelaxedAlignmentIsTheSameOrganisationalDomain) {
    EXPECT_TRUE(relaxedAligned("example.org", "bounces.example.org"));
    EXPECT_TRUE(relaxedAligned("news.example.co.uk", "BOUNCES.example.co.uk"));
    EXPECT_FALSE(relaxedAligned("example.co.uk", "other.co.uk"));  // co.uk is a public suffix
    EXPECT_FALSE(relaxedAligned("example.org", "example.net"));
    EXPECT_FALSE(relaxedAligned("example.org", ""));
}

TEST(Alignment, WarningsSayUnsignedAndThatDmarcCannotPass) {
    const Alignment spfOnly = judgeAlignment("Example.org", "bounces.example.org", nullptr);
    EXPECT_TRUE(spfOnly.spfAligned);
    EXPECT_FALSE(spfOnly.dkimAligned);
    ASSERT_EQ(spfOnly.warnings().size(), 1u);
    EXPECT_EQ(spfOnly.warnings()[0].rfind("campaign is sent unsigned: no [DKIM example.org] key", 0), 0u);

    const Alignment neither = judgeAlignment("example.org", "bounces.mailer.test", nullptr);
    EXPECT_FALSE(neither.spfAligned);
    ASSERT_EQ(neither.warnings().size(), 2u);
    EXPECT_EQ(neither.warnings()[1].rfind("the From domain example.org aligns with neither the envelope domain "
                                          "bounces.mailer.test (SPF) nor a DKIM signature: DMARC fails",
                                          0),
              0u)
        << neither.warnings()[1];
}

}  // namespace
}  // namespace campaignd::mail
