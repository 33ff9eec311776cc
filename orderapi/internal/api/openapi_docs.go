package api

// apiDoc documents one route for the OpenAPI description. Keys of apiDocs
// are docKey(method, pattern): parameter names are blanked ({}).
type apiDoc struct {
	Summary    string
	Notes      string   // longer description: envelope exceptions, rules
	Query      []string // "name" or "name:type" (type: string, integer, boolean, number)
	Body       string   // schema name in components.schemas
	Status     string   // success status, default "200"
	Idempotent bool     // honours Idempotency-Key
	Cookie     string   // what it does to the session cookie: cookieSets or cookieClears
}

// The session cookie's effects (cookie.go), stated on the success response.
const (
	cookieSets   = "sets"
	cookieClears = "clears"
)

// apiDocs has one row per route of routes.go. Adding a route means adding
// a row here too (TestOpenAPIMatchesRouter says which one is missing).
var apiDocs = map[string]apiDoc{
	// Probes and meta.
	"GET /health":              {Summary: "Health for the apps: {status:'success', message, timestamp, uptime}"},
	"GET /healthz":             {Summary: "Liveness probe"},
	"GET /readyz":              {Summary: "Readiness probe (MongoDB and Redis reachable; 503 while draining)"},
	"GET /metrics":             {Summary: "Prometheus metrics, text format (on orderapi's own port only; docs/metrics.md)"},
	"GET /admin":               {Summary: "Admin dashboard (static files; 404 when ADMIN_DIR is unset)"},
	"GET /api/v1/openapi.json": {Summary: "This OpenAPI 3 description"},

	// Auth.
	"POST /api/v1/auth/register":       {Summary: "Register a customer or a delivery agent (agents wait for approval; admins cannot self-register)", Body: "Register", Status: "201", Cookie: cookieSets},
	"POST /api/v1/auth/login":          {Summary: "Log in → {user, accessToken, refreshToken, expiresIn}", Body: "Login", Cookie: cookieSets},
	"POST /api/v1/auth/refresh":        {Summary: "New access token from a refresh token", Body: "Refresh", Cookie: cookieSets},
	"POST /api/v1/api/v1/auth/refresh": {Summary: "Alias of /api/v1/auth/refresh for the app's doubled prefix", Body: "Refresh", Cookie: cookieSets},
	"POST /api/v1/auth/logout":         {Summary: "Log out (an agent goes offline; the session cookie is cleared)", Cookie: cookieClears},
	"GET /api/v1/auth/me":              {Summary: "The authenticated user"},

	// Users.
	"GET /api/v1/users":                         {Summary: "List users (admin)", Query: []string{"role", "search", "page:integer", "limit:integer"}, Notes: "data: {users, pagination: {page, limit, total, totalPages}}"},
	"POST /api/v1/users":                        {Summary: "Create a user, e.g. another admin (admin only; admins come only from the seed or another admin)", Body: "CreateUser", Status: "201"},
	"GET /api/v1/users/delivery-agents/all":     {Summary: "Approved delivery agents for assignment, online then busy then offline (admin)", Notes: "data: {agents: [{id, name, status: online|busy|offline, isOnline, isApproved, activeDeliveries, maxDeliveries, ...}]}"},
	"GET /api/v1/users/{}":                      {Summary: "A user with addresses (self or admin)"},
	"PATCH /api/v1/users/{}":                    {Summary: "Update a profile (self); admins may also set isApproved, isRejected, rejectionReason, isActive. Never role or password.", Body: "UpdateUser"},
	"DELETE /api/v1/users/{}":                   {Summary: "Delete a user (admin; not yourself, not an agent holding orders)"},
	"PUT /api/v1/users/{}/profile-image":        {Summary: "Set the profile image URL (self or admin)", Body: "ProfileImage"},
	"POST /api/v1/users/{}/address":             {Summary: "Add a saved address (self)", Body: "Address", Status: "201", Notes: "{success, message, data: {address}} without statusCode"},
	"PUT /api/v1/users/{}/address/{}":           {Summary: "Update a saved address (self)", Body: "Address", Notes: "{success, message, data: {address}}"},
	"DELETE /api/v1/users/{}/address/{}":        {Summary: "Delete a saved address (self)"},
	"PATCH /api/v1/users/{}/address/{}/default": {Summary: "Make a saved address the default (self)", Notes: "{success, message, data: {address}}"},

	// Delivery agents.
	"PATCH /api/v1/delivery-agent/status":          {Summary: "Go online or offline (agent); offline is refused while holding orders (400 with activeOrders[])", Body: "AgentStatus", Notes: "{success, message, data} without statusCode; publishes delivery.agent_status_changed"},
	"GET /api/v1/delivery-agent/status":            {Summary: "The agent's availability: data.status.isOnline (agent)"},
	"GET /api/v1/delivery-agent/stats":             {Summary: "Today's and overall delivery stats from the agent's orders (agent)"},
	"GET /api/v1/delivery-agent/recent-deliveries": {Summary: "The agent's last deliveries (agent)", Query: []string{"limit:integer"}, Notes: "{success, count, data}"},

	// Payments.
	"POST /api/v1/payments":                          {Summary: "Record a payment: COD by the order's assigned agent or an admin; the amount must equal the order total", Body: "Payment", Status: "201", Idempotent: true, Notes: "One completed payment per order (409 for a second). Publishes payment.received; the order's paymentStatus follows."},
	"GET /api/v1/payments":                           {Summary: "List payments (admin)", Query: []string{"status", "paymentMethod", "sortBy", "sortOrder", "page:integer", "limit:integer"}},
	"GET /api/v1/payments/stats":                     {Summary: "Payment totals by status, method and today (admin)"},
	"GET /api/v1/payments/cash-collections-by-agent": {Summary: "Completed cash-on-delivery totals per delivery agent (admin)"},
	"GET /api/v1/payments/{}":                        {Summary: "One payment (admin)"},

	// Offers.
	"GET /api/v1/offers/active":            {Summary: "Offers usable now (public)", Notes: "{success, count, data}"},
	"POST /api/v1/offers/validate":         {Summary: "Check a code against a cart value (customer)", Body: "ValidateOffer", Notes: "Top-level {success, offer, discount, finalAmount, message}; 400 {success:false, message} when it does not apply"},
	"GET /api/v1/offers/admin":             {Summary: "All offers (admin)", Query: []string{"isActive:boolean", "discountType", "search"}, Notes: "{success, count, data}"},
	"POST /api/v1/offers/admin":            {Summary: "Create an offer (admin); publishes offer.created", Body: "Offer", Status: "201"},
	"GET /api/v1/offers/admin/stats":       {Summary: "Offer statistics (admin)"},
	"GET /api/v1/offers/admin/{}":          {Summary: "One offer (admin)"},
	"PATCH /api/v1/offers/admin/{}":        {Summary: "Update an offer (admin)", Body: "Offer"},
	"PATCH /api/v1/offers/admin/{}/toggle": {Summary: "Activate or deactivate an offer (admin)"},
	"DELETE /api/v1/offers/admin/{}":       {Summary: "Delete an offer (admin)"},

	// Admin dashboard figures.
	"GET /api/v1/dashboard/overview": {Summary: "The app's Dashboard screen in one call (admin)", Query: []string{"refresh"}, Notes: "data: {stats, weeklyChart[7], hourlySales, topProducts, recentActivities, systemStatus, lastUpdated, fromCache}. \"Today\" is a day in DASHBOARD_TIMEZONE (default Asia/Kolkata). Figures are cached DASHBOARD_CACHE_TTL (30s; fromCache says so); ?refresh bypasses the cache."},
	"GET /api/v1/dashboard/stats":    {Summary: "Today's and overall figures (admin)", Query: []string{"refresh"}, Notes: "data: {todayOrders, totalOrders, todayRevenue, totalRevenue, activeDeliveries, totalCustomers, completedOrders, cancelledOrders, lastUpdated, yesterdayOrders, yesterdayRevenue, deliveredToday, pendingOrders, agentsOnline, averageOrderValue, timeZone, fromCache}"},

	// Device tokens.
	"POST /api/v1/device-tokens":      {Summary: "Register this device's push token for the caller (idempotent: a known token is updated and moves to the caller)", Body: "Object", Status: "201", Notes: "{token, deviceType: android|ios|web, platform?: expo|fcm, metadata?}. 201 {success, message, data: {id, isNew: true}}; 200 with isNew false for a known token. Pushes are only logged: no FCM/Expo credentials."},
	"GET /api/v1/device-tokens":       {Summary: "Your active device tokens (the tokens themselves are not returned)", Notes: "{success, count, data}"},
	"DELETE /api/v1/device-tokens/{}": {Summary: "Deactivate a push token (its owner or an admin; anyone else gets 404)"},

	// Uploads.
	"POST /api/v1/upload/image":          {Summary: "Upload an image (multipart field image, optional field type); checked by content: JPEG, PNG, GIF or WebP, at most 5 MB", Notes: "{success, message, data: {url, publicId, format, width, height}}"},
	"POST /api/v1/upload/product-image":  {Summary: "Upload a product image (admin; multipart field image)", Notes: "{success, message, data: {url, publicId}}; then PATCH /products/:id {imageUrl: url}"},
	"POST /api/v1/upload/avatar":         {Summary: "Upload a profile picture (multipart field image)", Notes: "{success, message, data: {url, publicId}}"},
	"POST /api/v1/upload/document-image": {Summary: "Upload a verification document image (multipart field image)", Notes: "{success, message, data: {url, publicId}}"},
	"POST /api/v1/upload/banner":         {Summary: "Upload a banner (admin; multipart field image)", Notes: "{success, message, data: {url, publicId}}"},
	"POST /api/v1/upload/base64-image":   {Summary: "Upload an image as a data URL {image: 'data:image/...;base64,...', type?}", Body: "Object", Notes: "{success, message, data: {url, publicId}}"},
	"DELETE /api/v1/upload/image/{}":     {Summary: "Delete an uploaded image by publicId (admin)"},
	"GET /uploads/{}":                    {Summary: "An uploaded image (public, cacheable forever; nosniff)"},

	// Notifications.
	"GET /api/v1/notifications":              {Summary: "Your notifications", Query: []string{"page:integer", "limit:integer", "isRead:boolean", "type", "priority"}, Notes: "data: {notifications, totalCount, unreadCount, page, totalPages, hasMore}"},
	"GET /api/v1/notifications/unread-count": {Summary: "Your unread count: data {count}"},
	"PATCH /api/v1/notifications/read-all":   {Summary: "Mark all your notifications read"},
	"GET /api/v1/notifications/{}":           {Summary: "A user's notifications (that user or an admin)", Query: []string{"page:integer", "limit:integer", "isRead:boolean", "type", "priority"}},
	"PATCH /api/v1/notifications/{}/read":    {Summary: "Mark your notification read (someone else's → 403)"},
	"DELETE /api/v1/notifications/{}":        {Summary: "Delete your notification (someone else's → 403)"},

	// Products (menu).
	"GET /api/v1/products":       {Summary: "The menu", Query: []string{"page:integer", "limit:integer", "category", "search", "isAvailable:boolean", "isVegetarian:boolean", "sortBy", "sortOrder"}, Notes: "Pagination fields at the top level: {success, message, data, total, page, limit, totalPages, hasMore}"},
	"GET /api/v1/products/{}":    {Summary: "One product"},
	"POST /api/v1/products":      {Summary: "Create a product (admin)", Body: "Object", Status: "201"},
	"PATCH /api/v1/products/{}":  {Summary: "Update a product, e.g. {isAvailable} (admin)", Body: "Object"},
	"PUT /api/v1/products/{}":    {Summary: "Update a product (admin)", Body: "Object"},
	"DELETE /api/v1/products/{}": {Summary: "Delete a product (admin)"},

	// Restaurant settings and business status.
	"GET /api/v1/restaurant-settings/public":  {Summary: "Public pricing settings: {minOrderAmount, taxRate, deliveryFee, freeDeliveryThreshold}", Notes: "{success, message, data} without statusCode"},
	"GET /api/v1/admin/restaurant-settings":   {Summary: "All restaurant settings (admin)"},
	"PUT /api/v1/admin/restaurant-settings":   {Summary: "Update restaurant settings (admin)", Body: "Object"},
	"PATCH /api/v1/admin/restaurant-settings": {Summary: "Update restaurant settings (admin)", Body: "Object"},
	"GET /api/v1/business/status":             {Summary: "Whether the shop is open (public)"},
	"PATCH /api/v1/business/status":           {Summary: "Open or close the shop (admin); publishes business.status_changed", Body: "BusinessStatus"},

	// Cart (customers).
	"GET /api/v1/cart":             {Summary: "Your cart, priced on the server", Notes: "{success, message, data} without statusCode"},
	"DELETE /api/v1/cart":          {Summary: "Empty your cart"},
	"POST /api/v1/cart/items":      {Summary: "Add an item", Body: "Object"},
	"PATCH /api/v1/cart/items/{}":  {Summary: "Change an item's quantity", Body: "Object"},
	"PUT /api/v1/cart/items/{}":    {Summary: "Change an item's quantity", Body: "Object"},
	"DELETE /api/v1/cart/items/{}": {Summary: "Remove an item"},
	"POST /api/v1/cart/coupon":     {Summary: "Apply an offer code", Body: "Object"},
	"DELETE /api/v1/cart/coupon":   {Summary: "Remove the offer code"},
	"GET /api/v1/cart/validate":    {Summary: "Check the cart before checkout"},

	// Orders.
	"POST /api/v1/orders/from-cart":               {Summary: "Place an order from your cart", Body: "Object", Status: "201", Idempotent: true, Notes: "data: <Order>; publishes order.created"},
	"POST /api/v1/orders":                         {Summary: "Place an order from items [{productId, quantity, size?}], priced on the server", Body: "Object", Status: "201", Idempotent: true},
	"GET /api/v1/orders":                          {Summary: "All orders, newest first (admin)", Query: []string{"status"}, Notes: "data is a bare array"},
	"GET /api/v1/orders/my-orders":                {Summary: "Your orders with display strings (customer)", Query: []string{"limit:integer", "skip:integer", "status"}},
	"GET /api/v1/orders/delivery-agent/my-orders": {Summary: "Orders assigned to you (agent)", Query: []string{"status", "limit:integer"}},
	"GET /api/v1/orders/user/{}":                  {Summary: "A user's orders (that user or an admin)"},
	"GET /api/v1/orders/{}":                       {Summary: "One order (its customer, its agent or an admin): data {order}"},
	"DELETE /api/v1/orders/{}":                    {Summary: "Delete or cancel an order"},
	"POST /api/v1/orders/{}/accept":               {Summary: "Accept a pending order (admin): data {order}"},
	"POST /api/v1/orders/{}/reject":               {Summary: "Reject (cancel) an order with a reason (admin): data {order}", Body: "Object"},
	"POST /api/v1/orders/{}/mark-ready":           {Summary: "Mark an order ready (admin)"},
	"PATCH /api/v1/orders/{}/assign-delivery":     {Summary: "Assign an approved, active, online agent (admin)", Body: "Object"},
	"PATCH /api/v1/orders/{}/status":              {Summary: "Change an order's status and/or paymentStatus (state machine; agents only their own orders)", Body: "Object"},
	"PATCH /api/v1/orders/{}/cancel":              {Summary: "Cancel your pending order (customer)", Body: "Object"},
	"PATCH /api/v1/orders/{}/rate":                {Summary: "Rate a delivered order (customer)", Body: "Object"},
	"GET /api/v1/orders/track/{}":                 {Summary: "Track an order by its number"},

	// Internal API of the gateway.
	"GET /internal/v1/users/{}":          {Summary: "Identity of a user for the gateway: {id, name, email, role, isActive, isApproved, isRejected}"},
	"GET /internal/v1/orders/{}/parties": {Summary: "Parties of an order for the gateway: {orderId, orderNumber, customerId, deliveryAgentId, deliveryAgentName, status}"},
}

// obj is a JSON schema object with the given properties (name → schema)
// and required names.
func obj(props map[string]any, required ...string) map[string]any {
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func typ(t string) map[string]any { return map[string]any{"type": t} }

func enum(vals ...string) map[string]any { return map[string]any{"type": "string", "enum": vals} }

// apiSchemas are the request and envelope schemas referenced above.
func apiSchemas() map[string]any {
	str, num, integer, boolean := typ("string"), typ("number"), typ("integer"), typ("boolean")
	nullableStr := map[string]any{"type": "string", "nullable": true}
	address := obj(map[string]any{"label": str, "street": str, "city": str, "state": str, "pincode": str,
		"landmark": str, "isDefault": boolean}, "street", "city", "state", "pincode")
	vehicle := obj(map[string]any{"type": enum("bike", "scooter", "bicycle", "car"), "number": str, "model": str})
	register := obj(map[string]any{"name": str, "email": str, "phone": str, "password": str,
		"role": enum("customer", "delivery"), "profileImage": str, "address": map[string]any{"type": "array", "items": address},
		"vehicleInfo": vehicle}, "name", "email", "phone", "password")
	createUser := obj(map[string]any{"name": str, "email": str, "phone": str, "password": str,
		"role": enum("customer", "delivery", "admin"), "username": str, "adminRole": enum("owner", "staff", "manager"),
		"vehicleInfo": vehicle}, "name", "email", "phone", "password", "role")
	return map[string]any{
		"Object": typ("object"),
		"Envelope": obj(map[string]any{"success": boolean, "statusCode": integer, "message": str,
			"data": map[string]any{}}, "success"),
		"Error": obj(map[string]any{"success": boolean, "statusCode": integer, "message": str,
			"timestamp": str, "path": str}, "success", "message"),
		"ValidationError": obj(map[string]any{"success": boolean, "message": str, "errors": map[string]any{
			"type": "array", "items": obj(map[string]any{"field": str, "message": str, "value": map[string]any{}})}}, "success", "message"),
		"TooManyRequests": obj(map[string]any{"status": enum("fail"), "code": enum("TOO_MANY_REQUESTS"),
			"message": str, "timestamp": str}, "status", "code", "message"),
		"Register":     register,
		"CreateUser":   createUser,
		"Login":        obj(map[string]any{"email": str, "password": str}, "email", "password"),
		"Refresh":      obj(map[string]any{"refreshToken": str}, "refreshToken"),
		"Address":      address,
		"ProfileImage": obj(map[string]any{"profileImage": str}, "profileImage"),
		"UpdateUser": obj(map[string]any{"name": str, "email": str, "phone": str, "profileImage": str,
			"vehicleInfo": vehicle, "isApproved": boolean, "isRejected": boolean, "rejectionReason": nullableStr,
			"isActive": boolean}),
		"AgentStatus": obj(map[string]any{"isOnline": boolean}, "isOnline"),
		"Payment": obj(map[string]any{"order": str, "user": str, "amount": num,
			"paymentMethod": enum("cash", "card", "upi", "wallet", "cod"), "collectionMethod": enum("cash", "upi", "card"),
			"paymentStatus": enum("pending", "completed", "failed"), "transactionId": str}, "order", "amount", "paymentMethod"),
		"ValidateOffer": obj(map[string]any{"code": str, "cartValue": num}, "code", "cartValue"),
		"Offer": obj(map[string]any{"title": str, "description": str, "code": str, "badge": str,
			"discountType": enum("percentage", "fixed"), "discountValue": num, "maxDiscount": num, "minOrderValue": num,
			"isActive": boolean, "validFrom": map[string]any{"type": "string", "format": "date-time"},
			"validUntil":     map[string]any{"type": "string", "format": "date-time"},
			"usageLimit":     map[string]any{"type": "integer", "nullable": true},
			"gradientColors": map[string]any{"type": "array", "items": str, "minItems": 2, "maxItems": 2}, "bgColor": str}),
		"BusinessStatus": obj(map[string]any{"isOpen": boolean, "message": str}, "isOpen"),
	}
}

// apiResponses are the shared error responses.
func apiResponses() map[string]any {
	ref := func(name string) map[string]any {
		return map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + name}}}
	}
	return map[string]any{
		"BadRequest":      map[string]any{"description": "Invalid input (validation errors list each field)", "content": ref("ValidationError")},
		"Unauthorized":    map[string]any{"description": "No, invalid or expired token; unknown or inactive user", "content": ref("Error")},
		"Forbidden":       map[string]any{"description": "Authenticated but not allowed", "content": ref("Error")},
		"NotFound":        map[string]any{"description": "No such resource", "content": ref("Error")},
		"TooManyRequests": map[string]any{"description": "Rate limit exceeded (Retry-After header)", "content": ref("TooManyRequests")},
	}
}
