package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

// Payment is a document of the payments collection (CONTRACT §4.4), with
// additive fields that save lookups: the order number, who collected the
// money and the order's agent at the time.
//
// User is the ORDER's customer (who paid). The original stored whatever id
// the client sent, which for COD was the agent; CollectedBy now says that.
type Payment struct {
	ID               primitive.ObjectID  `bson:"_id"`
	Order            primitive.ObjectID  `bson:"order"`
	OrderNumber      string              `bson:"orderNumber"`
	User             primitive.ObjectID  `bson:"user"`
	CollectedBy      *primitive.ObjectID `bson:"collectedBy"`
	DeliveryAgent    *primitive.ObjectID `bson:"deliveryAgent"`
	Amount           float64             `bson:"amount"`
	PaymentMethod    string              `bson:"paymentMethod"`    // card, upi, cod, cash, wallet
	CollectionMethod string              `bson:"collectionMethod"` // cash, upi, card (COD)
	PaymentStatus    string              `bson:"paymentStatus"`    // pending, completed, failed
	TransactionID    string              `bson:"transactionId,omitempty"`
	PaymentGateway   string              `bson:"paymentGateway"` // cash or manual here
	RefundStatus     string              `bson:"refundStatus"`
	// Settles is the order id on a completed payment and absent otherwise.
	// A unique sparse index on it allows one completed payment per order:
	// the guard against double collection that needs no transaction.
	Settles   *primitive.ObjectID `bson:"settles,omitempty"`
	CreatedAt time.Time           `bson:"createdAt"`
	UpdatedAt time.Time           `bson:"updatedAt"`
}

// IsCashCollection reports whether p is cash collected on delivery: the
// rows of the cash-collections report.
func (p *Payment) IsCashCollection() bool {
	if p.PaymentStatus != order.PaymentCompleted {
		return false
	}
	switch p.PaymentMethod {
	case "cod":
		return p.CollectionMethod == "" || p.CollectionMethod == "cash"
	case "cash":
		return p.CollectionMethod == "" || p.CollectionMethod == "cash"
	}
	return false
}

// Event is the payment.received payload of p.
func (p *Payment) Event() *event.PaymentReceivedData {
	d := &event.PaymentReceivedData{
		PaymentID: p.ID.Hex(), OrderID: p.Order.Hex(), OrderNumber: p.OrderNumber, CustomerID: p.User.Hex(),
		Amount: p.Amount, PaymentMethod: p.PaymentMethod, PaymentStatus: p.PaymentStatus,
		CollectionMethod: p.CollectionMethod, TransactionID: p.TransactionID,
	}
	if p.CollectedBy != nil {
		d.CollectedBy = p.CollectedBy.Hex()
	}
	return d
}

// Payments is the payments collection.
type Payments struct{ base }

var errPaymentNotFound = apperr.NotFoundf("Payment not found")

func (s *Payments) ensureIndexes(ctx context.Context) error {
	err := createIndexes(ctx, s.c, []mongo.IndexModel{
		{Keys: bson.D{{Key: "settles", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true).SetName("settles_unique")},
		{Keys: bson.D{{Key: "order", Value: 1}}, Options: options.Index().SetName("order")},
		{Keys: bson.D{{Key: "createdAt", Value: -1}}, Options: options.Index().SetName("createdAt")},
	})
	if err != nil {
		return fmt.Errorf("payments indexes: %w", err)
	}
	return nil
}

// RecordPayment stores p with its payment.received event in one write:
// the payment document is the commit point of a payment. Whatever must
// follow (the order's paymentStatus, notifications) is derived from that
// event by idempotent relay hooks, so nothing is lost if the process dies
// right after this write.
//
// p.ID may be preset (derived from an Idempotency-Key): if a payment with
// that id exists, it is returned with existed = true and nothing is
// written. A second completed payment for the same order is a Conflict.
func (s *Payments) RecordPayment(ctx context.Context, p *Payment) (stored *Payment, existed bool, err error) {
	if p.ID.IsZero() {
		p.ID = primitive.NewObjectID()
	}
	now := s.nowMs()
	p.CreatedAt, p.UpdatedAt = now, now
	if p.RefundStatus == "" {
		p.RefundStatus = "none"
	}
	p.Settles = nil
	if p.PaymentStatus == order.PaymentCompleted {
		id := p.Order
		p.Settles = &id
	}
	err = s.insert(ctx, p.ID, p, []event.Payload{p.Event()})
	if err == nil {
		return p, false, nil
	}
	if !IsUniqueViolation(err) {
		return nil, false, err
	}
	if prev, ferr := s.PaymentByID(ctx, p.ID); ferr == nil {
		return prev, true, nil // the same request again
	}
	return nil, false, ErrAlreadyPaid
}

// ErrAlreadyPaid refuses a second completed payment for one order.
var ErrAlreadyPaid = apperr.Conflictf("A completed payment is already recorded for this order")

// CompletedPaymentFor returns the completed payment of an order, or NotFound.
func (s *Payments) CompletedPaymentFor(ctx context.Context, orderID primitive.ObjectID) (*Payment, error) {
	var p Payment
	if err := s.findOne(ctx, bson.D{{Key: "settles", Value: orderID}}, &p, errPaymentNotFound); err != nil {
		return nil, err
	}
	return &p, nil
}

// PaymentByID returns the payment, or NotFound "Payment not found".
func (s *Payments) PaymentByID(ctx context.Context, id primitive.ObjectID) (*Payment, error) {
	var p Payment
	if err := s.findOne(ctx, byID(id), &p, errPaymentNotFound); err != nil {
		return nil, err
	}
	return &p, nil
}

// PaymentFilter selects payments for lists. Zero fields select all.
type PaymentFilter struct {
	Status        string
	PaymentMethod string
	Order         *primitive.ObjectID
	SortBy        string // createdAt (default) or amount
	Ascending     bool
	Skip, Limit   int64
}

func (f PaymentFilter) bson() bson.D {
	d := bson.D{}
	if f.Status != "" {
		d = append(d, bson.E{Key: "paymentStatus", Value: f.Status})
	}
	if f.PaymentMethod != "" {
		d = append(d, bson.E{Key: "paymentMethod", Value: f.PaymentMethod})
	}
	if f.Order != nil {
		d = append(d, bson.E{Key: "order", Value: *f.Order})
	}
	return d
}

// ListPayments returns the matching payments (newest first by default) and
// how many match in total.
func (s *Payments) ListPayments(ctx context.Context, f PaymentFilter) ([]*Payment, int64, error) {
	dir := -1
	if f.Ascending {
		dir = 1
	}
	sortKey := "createdAt"
	if f.SortBy == "amount" {
		sortKey = "amount"
	}
	sort := bson.D{{Key: sortKey, Value: dir}, {Key: "_id", Value: dir}}
	return findPage[Payment](ctx, s.c, f.bson(), sort, f.Skip, f.Limit, "payments")
}

// EachPayment streams the payments matching f (sort and paging ignored) to
// fn, decoding only the fields reports need. Reports aggregate in Go:
// FerretDB v1 computes only one $group accumulator correctly.
func (s *Payments) EachPayment(ctx context.Context, f PaymentFilter, fn func(*Payment)) error {
	return eachProjected(ctx, s.c, f.bson(), []string{"_id", "order", "user", "collectedBy", "deliveryAgent", "amount",
		"paymentMethod", "collectionMethod", "paymentStatus", "createdAt"}, "payments", fn)
}

// MarkOrderPaid sets the order's paymentStatus to completed (recording
// order.status_changed, as a payment-status PATCH does). It is idempotent:
// an order already marked paid is left alone, so the payment handler and
// the relay hook may both call it. A missing order is not an error.
func (s *Orders) MarkOrderPaid(ctx context.Context, id primitive.ObjectID) error {
	o, err := s.OrderByID(ctx, id)
	if apperr.KindOf(err) == apperr.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if o.PaymentStatus == order.PaymentCompleted {
		return nil
	}
	_, err = s.UpdateOrder(ctx, id, func(o *order.Order) error {
		if o.PaymentStatus == order.PaymentCompleted {
			return errNothingToDo
		}
		// The payment was authorised by whoever recorded it; the order only
		// follows, so it is changed with the system's (admin) rights.
		return o.SetStatus(order.Actor{Role: auth.RoleAdmin}, o.Status, order.PaymentCompleted, "", s.nowMs())
	})
	if err == errNothingToDo || apperr.KindOf(err) == apperr.NotFound {
		return nil
	}
	return err
}

// errNothingToDo aborts an update that turned out to be unnecessary.
var errNothingToDo = apperr.Conflictf("nothing to do")

// OnPaymentPublished is the relay hook that makes an order follow its
// completed payment: if the process died between storing a payment and
// updating the order, the order is updated when the payment's event is
// published (again). Idempotent.
func (s *Orders) OnPaymentPublished(ctx context.Context, _ event.Envelope, p event.Payload) error {
	d, ok := p.(*event.PaymentReceivedData)
	if !ok || d.PaymentStatus != order.PaymentCompleted {
		return nil
	}
	id, err := primitive.ObjectIDFromHex(d.OrderID)
	if err != nil {
		return nil // not ours to fix; the event itself was valid for routing
	}
	if err := s.MarkOrderPaid(ctx, id); err != nil {
		return fmt.Errorf("mark order %s paid: %w", d.OrderID, err)
	}
	return nil
}
