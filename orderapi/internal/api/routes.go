package api

import (
	"net/http"

	"github.com/friendspizzahut/platform/shared/auth"
)

// v1 prefixes the REST API the apps call.
const v1 = "/api/v1"

// routes is the whole HTTP surface of orderapi, grouped by resource: method,
// path, who may call it, and the handler with exactly the stores it uses.
// Adding an endpoint is adding a row.
func routes(d Deps) []route {
	s := d.Stores
	pr := pricer{products: s.Products, settings: s.Settings, offers: s.Offers, now: d.Now}
	cd := cartDeps{carts: s.Carts, pr: pr}
	dash := newDashboardSource(s, d.Dashboard, d.Now)
	org := origin{public: d.PublicURL, trust: d.RateLimit.TrustProxy}
	sess := d.sessions()
	od := orderDeps{orders: s.Orders, users: s.Users, carts: s.Carts, products: s.Products, offers: s.Offers, business: s.Business, pr: pr}
	return []route{
		// Probes and the admin dashboard (outside /api/v1).
		{http.MethodGet, "/health", public, handleHealth(d.StartedAt, d.Now)},
		{http.MethodGet, "/healthz", public, handleHealthz()},
		{http.MethodGet, "/readyz", public, handleReadyz(d.Checks, d.Draining)},
		{http.MethodGet, "/metrics", public, d.Metrics.Handler()}, // never forwarded by the front proxy
		{http.MethodGet, "/admin", public, handleAdmin(d.AdminDir)},
		{http.MethodGet, "/admin/*", public, handleAdmin(d.AdminDir)},

		// Auth
		{http.MethodPost, v1 + "/auth/register", public, handleRegister(s.Users, sess)},
		{http.MethodPost, v1 + "/auth/login", public, handleLogin(s.Users, sess)},
		{http.MethodPost, v1 + "/auth/refresh", public, handleRefresh(s.Users, sess)},
		{http.MethodPost, v1 + v1 + "/auth/refresh", public, handleRefresh(s.Users, sess)}, // the app's doubled prefix (CONTRACT §6.14)
		{http.MethodPost, v1 + "/auth/logout", optionalUser, handleLogout(s.Users, s.DeviceTokens, sess)},

		// Products (the menu)
		{http.MethodGet, v1 + "/products", public, handleListProducts(s.Products)},
		{http.MethodGet, v1 + "/products/{id}", public, handleGetProduct(s.Products)},
		{http.MethodPost, v1 + "/products", admin, handleCreateProduct(s.Products)},
		{http.MethodPatch, v1 + "/products/{id}", admin, handleUpdateProduct(s.Products)},
		{http.MethodPut, v1 + "/products/{id}", admin, handleUpdateProduct(s.Products)},
		{http.MethodDelete, v1 + "/products/{id}", admin, handleDeleteProduct(s.Products)},

		// Users (self or admin; admins alone list, approve, create and delete)
		{http.MethodGet, v1 + "/users", admin, handleListUsers(s.Users)},
		{http.MethodPost, v1 + "/users", admin, handleCreateUser(s.Users)},
		{http.MethodGet, v1 + "/users/delivery-agents/all", admin, handleDeliveryAgents(s.Users, s.Orders)},
		{http.MethodGet, v1 + "/users/{id}", anyUser, handleGetUser(s.Users)},
		{http.MethodPatch, v1 + "/users/{id}", anyUser, handleUpdateUser(s.Users)},
		{http.MethodDelete, v1 + "/users/{id}", admin, handleDeleteUser(s.Users, s.Orders)},
		{http.MethodPut, v1 + "/users/{id}/profile-image", anyUser, handleProfileImage(s.Users)},
		{http.MethodPost, v1 + "/users/{id}/address", anyUser, handleAddAddress(s.Users)},
		{http.MethodPut, v1 + "/users/{id}/address/{addressId}", anyUser, handleUpdateAddress(s.Users)},
		{http.MethodDelete, v1 + "/users/{id}/address/{addressId}", anyUser, handleDeleteAddress(s.Users)},
		{http.MethodPatch, v1 + "/users/{id}/address/{addressId}/default", anyUser, handleDefaultAddress(s.Users)},

		// Delivery agents
		{http.MethodPatch, v1 + "/delivery-agent/status", delivery, handleSetAgentStatus(s.Users, s.Orders)},
		{http.MethodGet, v1 + "/delivery-agent/status", delivery, handleGetAgentStatus(s.Orders)},
		{http.MethodGet, v1 + "/delivery-agent/stats", delivery, handleAgentStats(s.Orders, dash.startOfToday)},
		{http.MethodGet, v1 + "/delivery-agent/recent-deliveries", delivery, handleRecentDeliveries(s.Orders)},

		// Payments (recorded by the order's agent or an admin)
		{http.MethodPost, v1 + "/payments", roles(auth.RoleAdmin, auth.RoleDelivery), idempotent(d, handleCreatePayment(s.Payments, s.Orders, s.Users))},
		{http.MethodGet, v1 + "/payments", admin, handleListPayments(s.Payments, s.Orders, s.Users)},
		{http.MethodGet, v1 + "/payments/stats", admin, handlePaymentStats(s.Payments, dash.startOfToday)},
		{http.MethodGet, v1 + "/payments/cash-collections-by-agent", admin, handleCashCollections(s.Payments, s.Orders, s.Users)},
		{http.MethodGet, v1 + "/payments/{id}", admin, handleGetPayment(s.Payments, s.Orders, s.Users)},

		// Offers
		{http.MethodGet, v1 + "/offers/active", public, handleActiveOffers(s.Offers, d.Now)},
		{http.MethodPost, v1 + "/offers/validate", customer, handleValidateOffer(s.Offers, d.Now)},
		{http.MethodGet, v1 + "/offers/admin", admin, handleListOffers(s.Offers, d.Now)},
		{http.MethodPost, v1 + "/offers/admin", admin, handleCreateOffer(s.Offers, d.Now)},
		{http.MethodGet, v1 + "/offers/admin/stats", admin, handleOfferStats(s.Offers, d.Now)},
		{http.MethodGet, v1 + "/offers/admin/{id}", admin, handleGetOffer(s.Offers, d.Now)},
		{http.MethodPatch, v1 + "/offers/admin/{id}", admin, handleUpdateOffer(s.Offers, d.Now)},
		{http.MethodPatch, v1 + "/offers/admin/{id}/toggle", admin, handleToggleOffer(s.Offers, d.Now)},
		{http.MethodDelete, v1 + "/offers/admin/{id}", admin, handleDeleteOffer(s.Offers)},

		// Notifications (your own only)
		{http.MethodGet, v1 + "/notifications", anyUser, handleListNotifications(s.Notifications)},
		{http.MethodGet, v1 + "/notifications/unread-count", anyUser, handleUnreadCount(s.Notifications)},
		{http.MethodPatch, v1 + "/notifications/read-all", anyUser, handleMarkAllRead(s.Notifications)},
		{http.MethodGet, v1 + "/notifications/{userId}", anyUser, handleUserNotifications(s.Notifications)},
		{http.MethodPatch, v1 + "/notifications/{id}/read", anyUser, handleMarkRead(s.Notifications)},
		{http.MethodDelete, v1 + "/notifications/{id}", anyUser, handleDeleteNotification(s.Notifications)},

		// API description
		{http.MethodGet, v1 + "/openapi.json", public, handleOpenAPI(d)},

		// Cart (customers)
		{http.MethodGet, v1 + "/cart", customer, handleGetCart(cd)},
		{http.MethodPost, v1 + "/cart/items", customer, handleAddCartItem(cd)},
		{http.MethodPatch, v1 + "/cart/items/{itemId}", customer, handleUpdateCartItem(cd)},
		{http.MethodDelete, v1 + "/cart/items/{itemId}", customer, handleRemoveCartItem(cd)},
		{http.MethodDelete, v1 + "/cart", customer, handleClearCart(cd)},
		{http.MethodPost, v1 + "/cart/coupon", customer, handleApplyCoupon(cd)},
		{http.MethodDelete, v1 + "/cart/coupon", customer, handleRemoveCoupon(cd)},
		{http.MethodGet, v1 + "/cart/validate", customer, handleValidateCart(cd)},

		// Orders (one state machine: package order)
		{http.MethodPost, v1 + "/orders/from-cart", customer, idempotent(d, handleOrderFromCart(od))},
		{http.MethodPost, v1 + "/orders", customer, idempotent(d, handleCreateOrder(od))},
		{http.MethodGet, v1 + "/orders/my-orders", anyUser, handleMyOrders(s.Orders)},
		{http.MethodGet, v1 + "/orders/delivery-agent/my-orders", roles(auth.RoleDelivery, auth.RoleAdmin), handleAgentOrders(s.Orders, s.Settings)},
		{http.MethodGet, v1 + "/orders", admin, handleListOrders(s.Orders)},
		{http.MethodGet, v1 + "/orders/{id}", anyUser, handleGetOrder(s.Orders)},
		{http.MethodPost, v1 + "/orders/{id}/accept", admin, handleAcceptOrder(s.Orders)},
		{http.MethodPost, v1 + "/orders/{id}/reject", admin, handleRejectOrder(s.Orders, s.Users)},
		{http.MethodPost, v1 + "/orders/{id}/mark-ready", admin, handleMarkReady(s.Orders)},
		{http.MethodPatch, v1 + "/orders/{id}/assign-delivery", admin, handleAssignDelivery(s.Orders, s.Users)},
		{http.MethodPatch, v1 + "/orders/{id}/status", roles(auth.RoleAdmin, auth.RoleDelivery, auth.RoleCustomer), handleUpdateOrderStatus(s.Orders, s.Users)},

		// Restaurant settings and business status
		{http.MethodGet, v1 + "/restaurant-settings/public", public, handlePublicSettings(s.Settings)},
		{http.MethodGet, v1 + "/admin/restaurant-settings", admin, handleGetSettings(s.Settings)},
		{http.MethodPut, v1 + "/admin/restaurant-settings", admin, handleUpdateSettings(s.Settings)},
		{http.MethodGet, v1 + "/business/status", public, handleBusinessStatus(s.Business)},
		{http.MethodPatch, v1 + "/business/status", admin, handleSetBusinessStatus(s.Business, s.Settings)},

		// Admin dashboard figures (the app's Dashboard screen)
		{http.MethodGet, v1 + "/dashboard/overview", admin, handleDashboardOverview(dash, d.Checks, d.GatewaysAlive)},
		{http.MethodGet, v1 + "/dashboard/stats", admin, handleDashboardStats(dash)},

		// Device tokens for push notifications (sent by a log-only sender: package push)
		{http.MethodPost, v1 + "/device-tokens", anyUser, handleRegisterDeviceToken(s.DeviceTokens)},
		{http.MethodGet, v1 + "/device-tokens", anyUser, handleListDeviceTokens(s.DeviceTokens)},
		{http.MethodDelete, v1 + "/device-tokens/{token}", anyUser, handleRemoveDeviceToken(s.DeviceTokens)},

		// Image uploads (multipart field "image"), served back at /uploads/{name}
		{http.MethodPost, v1 + "/upload/image", anyUser, handleUpload(d.Uploads, org, uploadKind{message: "Image uploaded successfully", long: true})},
		{http.MethodPost, v1 + "/upload/product-image", admin, handleUpload(d.Uploads, org, uploadKind{folder: "products", message: "Product image uploaded successfully"})},
		{http.MethodPost, v1 + "/upload/avatar", anyUser, handleUpload(d.Uploads, org, uploadKind{folder: "avatars", message: "Avatar uploaded successfully"})},
		{http.MethodPost, v1 + "/upload/document-image", anyUser, handleUpload(d.Uploads, org, uploadKind{folder: "documents", message: "Document image uploaded successfully"})},
		{http.MethodPost, v1 + "/upload/banner", admin, handleUpload(d.Uploads, org, uploadKind{folder: "banners", message: "Banner uploaded successfully"})},
		{http.MethodPost, v1 + "/upload/base64-image", anyUser, handleUploadBase64(d.Uploads, org)},
		{http.MethodDelete, v1 + "/upload/image/{publicId}", admin, handleDeleteUpload(d.Uploads)},
		{http.MethodGet, "/uploads/{name}", public, handleServeUpload(d.Uploads)},

		// Internal API of the gateway (never forwarded by the front proxy).
		{http.MethodGet, "/internal/v1/users/{id}", internal, handleInternalUser(s.Users)},
		{http.MethodGet, "/internal/v1/orders/{id}/parties", internal, handleInternalParties(s.Orders)},
	}
}
