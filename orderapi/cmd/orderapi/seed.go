package main

import (
	"context"
	"fmt"
	"log/slog"

	"go.mongodb.org/mongo-driver/bson/primitive"
	"golang.org/x/crypto/bcrypt"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
)

// seed makes what SEED=true asks for, idempotently: the admin account, the
// restaurant settings (CONTRACT defaults plus a few toppings) and, when the
// menu is empty, a small demo menu. Existing data is never changed.
func seed(ctx context.Context, s *store.Stores, c cfg, logger *slog.Logger) error {
	_, err := s.Users.UserByEmail(ctx, c.SeedAdminEmail)
	switch {
	case apperr.KindOf(err) == apperr.NotFound:
		hash, err := bcrypt.GenerateFromPassword([]byte(c.SeedAdminPassword), 10)
		if err != nil {
			return fmt.Errorf("hash admin password: %w", err)
		}
		admin := &store.User{
			Name: "Shop Admin", Email: c.SeedAdminEmail, Phone: "9000000000", Password: string(hash),
			Role: auth.RoleAdmin, IsActive: true, Address: []store.Address{},
			Username: "admin", AdminRole: "owner", Permissions: []string{"all"},
		}
		if err := s.Users.CreateUser(ctx, admin); err != nil {
			return fmt.Errorf("create admin: %w", err)
		}
		logger.Info("seed: admin created", "email", admin.Email, "user_id", admin.ID.Hex())
	case err != nil:
		return err
	}

	created, err := s.Settings.EnsureDefaults(ctx)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	if created {
		_, err := s.Settings.Update(ctx, primitive.NilObjectID, func(rs *store.RestaurantSettings) error {
			rs.Phone, rs.Email, rs.Address = "9000000000", "hello@friendspizzahut.test", "12 MG Road, Pune"
			for _, t := range []store.Topping{
				{Name: "Extra Cheese", Category: "cheese", Price: 40},
				{Name: "Olives", Category: "vegetables", Price: 30},
				{Name: "Jalapenos", Category: "vegetables", Price: 30},
				{Name: "Grilled Chicken", Category: "meat", Price: 60},
			} {
				t.ID, t.IsActive = primitive.NewObjectID(), true
				rs.AvailableToppings = append(rs.AvailableToppings, t)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("settings toppings: %w", err)
		}
		logger.Info("seed: restaurant settings created")
	}

	n, err := s.Products.CountProducts(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	for _, p := range demoMenu() {
		if err := s.Products.CreateProduct(ctx, p); err != nil {
			return fmt.Errorf("create %s: %w", p.Name, err)
		}
	}
	logger.Info("seed: demo menu created", "products", len(demoMenu()))
	return nil
}

func demoMenu() []*store.Product {
	pizza := func(name, desc, img string, veg bool, s, m, l float64, sales int, tops ...store.ProductTopping) *store.Product {
		return &store.Product{Name: name, Description: desc, Category: "pizza", ImageURL: "/images/menu/" + img,
			Pricing:      store.Pricing{Sizes: map[string]float64{"small": s, "medium": m, "large": l}},
			IsVegetarian: veg, Toppings: tops, Rating: 4.4, SalesCount: sales, IsAvailable: true}
	}
	item := func(name, desc, cat, img string, veg bool, price float64, sales int) *store.Product {
		return &store.Product{Name: name, Description: desc, Category: cat, ImageURL: "/images/menu/" + img,
			Pricing: store.Pricing{Flat: price}, IsVegetarian: veg, Rating: 4.2, SalesCount: sales, IsAvailable: true}
	}
	return []*store.Product{
		// Items first, pizzas last: the newest products list first by default.
		item("Classic Veg Burger", "Crispy veg patty with lettuce", "burger", "veg-burger.jpg", true, 129, 60),
		item("Chicken Burger", "Grilled chicken with cheese", "burger", "chicken-burger.jpg", false, 169, 55),
		item("White Sauce Pasta", "Penne in creamy white sauce", "pasta", "white-pasta.jpg", true, 189, 40),
		item("Garlic Bread", "Four pieces with herb butter", "sides", "garlic-bread.jpg", true, 99, 85),
		item("Cold Coffee", "Thick cold coffee", "milkshakes", "cold-coffee.jpg", true, 119, 35),
		item("Coke (500 ml)", "Chilled soft drink", "cold-drinks", "coke.jpg", true, 49, 70),
		pizza("Margherita", "Tomato sauce, mozzarella and basil", "margherita.jpg", true, 199, 299, 399, 120,
			store.ProductTopping{Name: "Mozzarella", Category: "cheese"}, store.ProductTopping{Name: "Basil", Category: "vegetables"}),
		pizza("Farmhouse", "Onion, capsicum, tomato and mushroom", "farmhouse.jpg", true, 249, 379, 499, 90,
			store.ProductTopping{Name: "Mushroom", Category: "vegetables"}, store.ProductTopping{Name: "Capsicum", Category: "vegetables"}),
		pizza("Paneer Tikka", "Spiced paneer, onion and mint mayo", "paneer-tikka.jpg", true, 269, 399, 529, 75,
			store.ProductTopping{Name: "Paneer", Category: "cheese"}),
		pizza("Chicken Pepperoni", "Chicken pepperoni and extra cheese", "pepperoni.jpg", false, 279, 429, 549, 110,
			store.ProductTopping{Name: "Pepperoni", Category: "meat"}),
	}
}
