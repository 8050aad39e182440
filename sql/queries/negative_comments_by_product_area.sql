-- Which product areas get the most negative comments?
-- Readers: the product owner and product area leads.
-- Survey comments of the last 7 days per product area (surveys.product_area; 'unknown'
-- when the survey tool did not say), how many were negative and their share.
with comments as (
    select
        coalesce(product_area, 'unknown') as product_area,
        sentiment_label = 'negative' as negative
    from surveys
    where
        comment <> ''
        and submitted_at >= report_end() - interval 168 hours
        and submitted_at < report_end()
)

select
    product_area,
    count(*) filter (where negative) as negative_comments,
    count(*) as comments,
    round(count(*) filter (where negative) / count(*), 3) as share_negative
from comments
group by product_area
having count(*) filter (where negative) > 0
order by negative_comments desc, product_area
