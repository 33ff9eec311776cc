package store

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/event"
)

// Offer discount types.
const (
	DiscountPercentage = "percentage"
	DiscountFixed      = "fixed"
)

// Offer is a document of the offers collection (CONTRACT §4.5): a coupon
// code customers apply to their cart.
type Offer struct {
	ID             primitive.ObjectID  `bson:"_id"`
	Title          string              `bson:"title"`
	Description    string              `bson:"description"`
	Code           string              `bson:"code"` // upper-case A–Z 0–9, unique
	Badge          string              `bson:"badge"`
	DiscountType   string              `bson:"discountType"` // percentage or fixed
	DiscountValue  float64             `bson:"discountValue"`
	MaxDiscount    *float64            `bson:"maxDiscount"` // percentage offers only; nil = no cap
	MinOrderValue  float64             `bson:"minOrderValue"`
	IsActive       bool                `bson:"isActive"`
	ValidFrom      time.Time           `bson:"validFrom"`
	ValidUntil     time.Time           `bson:"validUntil"`
	UsageLimit     *int                `bson:"usageLimit"` // nil = unlimited
	UsageCount     int                 `bson:"usageCount"`
	GradientColors []string            `bson:"gradientColors"`
	BgColor        string              `bson:"bgColor"`
	CreatedBy      *primitive.ObjectID `bson:"createdBy"`
	CreatedAt      time.Time           `bson:"createdAt"`
	UpdatedAt      time.Time           `bson:"updatedAt"`
}

// IsUsable reports whether the offer can be applied at now: active, inside
// its validity window and under its usage limit.
func (o *Offer) IsUsable(now time.Time) bool {
	return o.IsActive && !now.Before(o.ValidFrom) && !now.After(o.ValidUntil) &&
		(o.UsageLimit == nil || o.UsageCount < *o.UsageLimit)
}

// IsExpired reports whether the validity window has ended at now.
func (o *Offer) IsExpired(now time.Time) bool { return now.After(o.ValidUntil) }

// Discount checks the offer against a cart value at now and returns the
// discount it gives (rounded to 2 decimals, never more than the cart value).
// A refusal is an Invalid error with a message the app shows as is.
func (o *Offer) Discount(cartValue float64, now time.Time) (float64, error) {
	if err := o.usable(now); err != nil {
		return 0, err
	}
	if cartValue < o.MinOrderValue {
		return 0, apperr.Invalidf("Minimum order value of ₹%s required for this offer", money(o.MinOrderValue))
	}
	var d float64
	if o.DiscountType == DiscountPercentage {
		d = cartValue * o.DiscountValue / 100
		if o.MaxDiscount != nil && *o.MaxDiscount > 0 && d > *o.MaxDiscount {
			d = *o.MaxDiscount
		}
	} else {
		d = o.DiscountValue
	}
	d = math.Min(d, cartValue)
	return math.Round(d*100) / 100, nil
}

// usable says why the offer cannot be applied at now, or nil.
func (o *Offer) usable(now time.Time) error {
	switch {
	case !o.IsActive:
		return apperr.Invalidf("This offer is no longer active")
	case now.Before(o.ValidFrom):
		return apperr.Invalidf("This offer is not valid yet")
	case now.After(o.ValidUntil):
		return apperr.Invalidf("This offer has expired")
	case o.UsageLimit != nil && o.UsageCount >= *o.UsageLimit:
		return apperr.Invalidf("This offer has reached its usage limit")
	}
	return nil
}

// money formats an amount the way the app prints rupees (no trailing .00).
func money(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	return strings.TrimSuffix(s, ".00")
}

// Event is the offer.created payload of o.
func (o *Offer) Event() *event.OfferData {
	until := o.ValidUntil
	return &event.OfferData{
		OfferID: o.ID.Hex(), Code: o.Code, Title: o.Title, Description: o.Description,
		DiscountType: o.DiscountType, DiscountValue: o.DiscountValue, ValidUntil: &until,
	}
}

// Offers is the offers collection.
type Offers struct{ base }

var (
	errOfferNotFound  = apperr.NotFoundf("Offer not found")
	errInvalidCode    = apperr.Invalidf("Invalid offer code")
	errOfferCodeTaken = apperr.Invalidf("An offer with this code already exists")
)

func (s *Offers) ensureIndexes(ctx context.Context) error {
	err := createIndexes(ctx, s.c, []mongo.IndexModel{
		{Keys: bson.D{{Key: "code", Value: 1}}, Options: options.Index().SetUnique(true).SetName("code_unique")},
	})
	if err != nil {
		return fmt.Errorf("offers indexes: %w", err)
	}
	return nil
}

// NormalizeCode is how codes are stored and looked up: trimmed, upper case.
func NormalizeCode(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

// OfferByCode returns the offer with that code (any case), or Invalid
// "Invalid offer code": to a customer an unknown code is a bad input.
func (s *Offers) OfferByCode(ctx context.Context, code string) (*Offer, error) {
	var o Offer
	if err := s.findOne(ctx, bson.D{{Key: "code", Value: NormalizeCode(code)}}, &o, errInvalidCode); err != nil {
		return nil, err
	}
	return &o, nil
}

// OfferByID returns the offer, or NotFound "Offer not found".
func (s *Offers) OfferByID(ctx context.Context, id primitive.ObjectID) (*Offer, error) {
	var o Offer
	if err := s.findOne(ctx, byID(id), &o, errOfferNotFound); err != nil {
		return nil, err
	}
	return &o, nil
}

// CreateOffer stores a new offer with its offer.created event. A taken code
// is an Invalid error.
func (s *Offers) CreateOffer(ctx context.Context, o *Offer) error {
	o.Code = NormalizeCode(o.Code)
	if o.ID.IsZero() {
		o.ID = primitive.NewObjectID()
	}
	now := s.nowMs()
	o.CreatedAt, o.UpdatedAt = now, now
	n, err := s.c.CountDocuments(ctx, bson.D{{Key: "code", Value: o.Code}}, options.Count().SetLimit(1))
	if err != nil {
		return fmt.Errorf("check offer code: %w", err)
	}
	if n > 0 {
		return errOfferCodeTaken
	}
	if err := s.insert(ctx, o.ID, o, []event.Payload{o.Event()}); err != nil {
		if IsUniqueViolation(err) {
			return errOfferCodeTaken
		}
		return err
	}
	return nil
}

// UpdateOffer changes an offer through the closure (see update). A code
// taken by another offer is an Invalid error.
func (s *Offers) UpdateOffer(ctx context.Context, id primitive.ObjectID, change func(*Offer) error) (*Offer, error) {
	o, err := update(ctx, s.base, byID(id), errOfferNotFound, func(o *Offer) ([]event.Payload, error) {
		before := o.Code
		if err := change(o); err != nil {
			return nil, err
		}
		o.Code = NormalizeCode(o.Code)
		if o.Code != before {
			n, err := s.c.CountDocuments(ctx, bson.D{{Key: "code", Value: o.Code}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: o.ID}}}}, options.Count().SetLimit(1))
			if err != nil {
				return nil, fmt.Errorf("check offer code: %w", err)
			}
			if n > 0 {
				return nil, errOfferCodeTaken
			}
		}
		o.UpdatedAt = s.nowMs()
		return nil, nil
	})
	if err != nil && IsUniqueViolation(err) {
		return nil, errOfferCodeTaken
	}
	return o, err
}

// UseOffer counts one use of the offer by an order, if it is still usable
// at now: active, valid and under its usage limit. The check and the count
// are one single-document update conditioned on the revision they were
// decided from (see update), so concurrent orders can never take the count
// past usageLimit: the loser re-reads and is refused with "This offer has
// reached its usage limit". (On FerretDB this needs the single-connection
// pool, MONGODB_POOL_SIZE=1, like every conditional update.)
func (s *Offers) UseOffer(ctx context.Context, id primitive.ObjectID, now time.Time) error {
	_, err := update(ctx, s.base, byID(id), errOfferNotFound, func(o *Offer) ([]event.Payload, error) {
		if err := o.usable(now); err != nil {
			return nil, err
		}
		o.UsageCount++
		o.UpdatedAt = s.nowMs()
		return nil, nil
	})
	return err
}

// ReleaseOffer gives back a use counted by UseOffer for an order that was
// then not stored.
func (s *Offers) ReleaseOffer(ctx context.Context, id primitive.ObjectID) error {
	_, err := update(ctx, s.base, byID(id), errOfferNotFound, func(o *Offer) ([]event.Payload, error) {
		if o.UsageCount > 0 {
			o.UsageCount--
			o.UpdatedAt = s.nowMs()
		}
		return nil, nil
	})
	return err
}

// DeleteOffer removes an offer. Its offer.created event, if still pending,
// would be lost with the document, so the delete waits for the relay to
// have published it (see deleteWhenFlushed).
func (s *Offers) DeleteOffer(ctx context.Context, id primitive.ObjectID) error {
	return deleteWhenFlushed(ctx, s.base, id, errOfferNotFound)
}

// OfferFilter selects offers for the admin list. Zero fields select all.
type OfferFilter struct {
	IsActive     *bool
	DiscountType string
	Search       string // substring of code or title, any case
}

// ListOffers returns the matching offers, newest first. Offers are few (a
// shop has tens), so the list is not paginated, as in the original.
func (s *Offers) ListOffers(ctx context.Context, f OfferFilter) ([]*Offer, error) {
	filter := bson.D{}
	if f.IsActive != nil {
		filter = append(filter, bson.E{Key: "isActive", Value: *f.IsActive})
	}
	if f.DiscountType != "" {
		filter = append(filter, bson.E{Key: "discountType", Value: f.DiscountType})
	}
	if f.Search != "" {
		rx := primitive.Regex{Pattern: regexp.QuoteMeta(f.Search), Options: "i"}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "code", Value: rx}}, bson.D{{Key: "title", Value: rx}},
		}})
	}
	return findSorted[Offer](ctx, s.c, filter, newestFirst(), 0, maxListed, "offers")
}

// ActiveOffers returns the offers usable at now, newest first.
func (s *Offers) ActiveOffers(ctx context.Context, now time.Time) ([]*Offer, error) {
	yes := true
	all, err := s.ListOffers(ctx, OfferFilter{IsActive: &yes})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, o := range all {
		if o.IsUsable(now) {
			out = append(out, o)
		}
	}
	return out, nil
}

// maxListed bounds lists that are not paginated.
const maxListed = 1000

// deleteWhenFlushed deletes the document id once its outbox is empty, so a
// delete never takes unpublished events with it. The relay publishes within
// milliseconds of a write, so this waits briefly and then gives up with a
// Conflict asking the client to retry.
func deleteWhenFlushed(ctx context.Context, b base, id primitive.ObjectID, notFound error) error {
	const attempts = 20
	for i := 0; i < attempts; i++ {
		res, err := b.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "outbox.0", Value: bson.D{{Key: "$exists", Value: false}}}})
		if err != nil {
			return fmt.Errorf("delete from %s: %w", b.c.Name(), err)
		}
		if res.DeletedCount == 1 {
			return nil
		}
		n, err := b.c.CountDocuments(ctx, byID(id), options.Count().SetLimit(1))
		if err != nil {
			return fmt.Errorf("delete from %s: %w", b.c.Name(), err)
		}
		if n == 0 {
			return notFound
		}
		select { // events pending: give the relay a moment
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return apperr.Conflictf("The resource has changes still being published. Please retry in a moment.")
}
