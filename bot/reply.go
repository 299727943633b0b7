package bot

// Reply is the engine's answer or handoff, before it becomes a protocol message.
type Reply struct {
	Kind       string // "answer" or "handoff"
	Reason     string // for handoffs
	Text       string
	Lang       string
	Sources    []Source
	Confidence float64
	Composer   string
	Contact    *Contact
}

// Why a reply hands off to people instead of answering; the protocol sends them as they are.
const (
	ReasonLowConfidence  = "low_confidence"
	ReasonOutOfScope     = "out_of_scope"
	ReasonNotResponsible = "not_responsible"
	ReasonUserRequest    = "user_request"
	// ReasonNoAgent: the citizen asked for a person in the live chat, and nobody took it (in
	// time, or at all): a callback or an e-mail answer is offered instead.
	ReasonNoAgent = "no_agent"
)

// Source is a page an answer is built from. Its JSON is what the protocol sends and the answers
// table keeps.
type Source struct {
	Title   string `json:"title"`
	URL     string `json:"url"`
	Snippet string `json:"snippet"`
}

// Contact is an office's ways to be reached, as its page states them; the protocol sends it as
// it is.
type Contact struct {
	Office string `json:"office,omitempty"`
	Phone  string `json:"phone,omitempty"`
	Email  string `json:"email,omitempty"`
	Hours  string `json:"hours,omitempty"`
	URL    string `json:"url,omitempty"`
}
